"""The 公示 as an Excel workbook (5.2.9): a title row, the header, one row per member (masked
names, as published) and a total row — written through `hongfeng.core.workbooks`, so a unit or
a name can never become a formula in this public file."""

from decimal import Decimal

from django.utils import timezone

from hongfeng.activities.models import AttendanceNotice
from hongfeng.core.workbooks import XLSX, Column, Kind, WorkbookWriter

__all__ = ["COLUMNS", "XLSX", "attendance_workbook"]

COLUMNS = [
    Column("序号", Kind.INTEGER, width=8),
    Column("姓名", width=12),
    Column("所在单位", width=36),
    Column("服务时长（小时）", Kind.NUMBER, width=18, number_format="0.00"),
    Column("参加活动（次）", Kind.INTEGER, width=16),
]


def attendance_workbook(notice: AttendanceNotice) -> bytes:
    month = f"{notice.month.year}年{notice.month.month}月"
    published = timezone.localtime(notice.published_at)
    book = WorkbookWriter()
    sheet = book.add_sheet(
        "考勤公示",
        COLUMNS,
        title=f"{notice.team.name} {month}考勤公示",
        notes=[f"第 {notice.version} 版 · 发布于 {published:%Y-%m-%d %H:%M} · 姓名已脱敏"],
    )
    for index, item in enumerate(notice.rows, start=1):
        sheet.append(
            [index, item["name"], item["unit"], Decimal(item["hours"]), int(item["activities"])]
        )
    sheet.append(
        [
            "合计",
            f"{len(notice.rows)} 人",
            None,
            notice.total_hours,
            f"活动 {notice.activity_count} 场",
        ],
        bold=True,
    )
    return book.to_bytes()
