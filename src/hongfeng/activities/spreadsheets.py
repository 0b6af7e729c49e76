"""The 公示 as an Excel workbook (5.2.9): a title row, the header, one row per member (masked
names, as published) and a total row."""

from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from hongfeng.activities.models import AttendanceNotice

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HEADERS = ["序号", "姓名", "所在单位", "服务时长（小时）", "参加活动（次）"]
WIDTHS = [8, 12, 36, 18, 16]


def attendance_workbook(notice: AttendanceNotice) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "考勤公示"
    month = f"{notice.month.year}年{notice.month.month}月"
    published = timezone.localtime(notice.published_at)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADERS))
    title = sheet.cell(row=1, column=1, value=f"{notice.team.name} {month}考勤公示")
    title.font = Font(bold=True, size=14, color="C0392B")
    title.alignment = Alignment(horizontal="center")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(HEADERS))
    sheet.cell(
        row=2,
        column=1,
        value=f"第 {notice.version} 版 · 发布于 {published:%Y-%m-%d %H:%M} · 姓名已脱敏",
    ).alignment = Alignment(horizontal="center")
    fill = PatternFill("solid", fgColor="F2F2F2")
    for column, (header, width) in enumerate(zip(HEADERS, WIDTHS, strict=True), start=1):
        cell = sheet.cell(row=3, column=column, value=header)
        cell.font = Font(bold=True)
        cell.fill = fill
        sheet.column_dimensions[cell.column_letter].width = width
    row = 3
    for index, item in enumerate(notice.rows, start=1):
        row += 1
        sheet.cell(row=row, column=1, value=index)
        sheet.cell(row=row, column=2, value=item["name"])
        sheet.cell(row=row, column=3, value=item["unit"])
        sheet.cell(row=row, column=4, value=float(Decimal(item["hours"]))).number_format = "0.00"
        sheet.cell(row=row, column=5, value=int(item["activities"]))
    row += 1
    sheet.cell(row=row, column=1, value="合计").font = Font(bold=True)
    sheet.cell(row=row, column=2, value=f"{len(notice.rows)} 人")
    total = sheet.cell(row=row, column=4, value=float(notice.total_hours))
    total.number_format = "0.00"
    total.font = Font(bold=True)
    sheet.cell(row=row, column=5, value=f"活动 {notice.activity_count} 场")
    sheet.freeze_panes = "A4"
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
