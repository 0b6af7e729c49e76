"""Roster imports (4.5 队伍一键入驻): one uploaded roster, its checks and what was imported."""

from django.conf import settings
from django.db import models


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", "已上传"
    VALIDATING = "validating", "校验中"
    VALIDATED = "validated", "已校验"
    IMPORTING = "importing", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class RosterImport(models.Model):
    """One uploaded roster (4.5 队伍一键入驻): its checks, its report of every bad row, and
    what was imported. The uploaded file is kept only until the import ends."""

    team = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="imports")
    filename = models.CharField("文件名", max_length=200)
    content = models.BinaryField("文件内容", editable=False)
    status = models.CharField(
        "状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    valid_only = models.BooleanField("仅导入通过校验的行", default=False)
    total_rows = models.PositiveIntegerField("数据行", default=0)
    valid_rows = models.PositiveIntegerField("通过校验", default=0)
    error_rows = models.PositiveIntegerField("有错误", default=0)
    imported_rows = models.PositiveIntegerField("已导入", default=0)
    report = models.JSONField("校验报告", default=list, blank=True)
    message = models.CharField("说明", max_length=300, blank=True)
    # Why it failed, for programs (the API's stable code: corrupt_file, not_xlsx, …).
    error_code = models.CharField("失败原因代码", max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "名册导入"
        verbose_name_plural = "名册导入"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.team} {self.filename}"

    @property
    def running(self) -> bool:
        return self.status in (
            ImportStatus.UPLOADED,
            ImportStatus.VALIDATING,
            ImportStatus.IMPORTING,
        )
