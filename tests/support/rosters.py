"""Roster workbooks for the import tests, written with openpyxl as an office would: the
columns of the roster template, valid ID numbers made from a counter, and rows that import
cleanly. Files openpyxl would never write are in tests/support/xlsx_files.py."""

import io
from datetime import date, timedelta

from openpyxl import Workbook

from hongfeng.core.idnumber import check_character

HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "分队",
    "小组",
    "人员类别",
    "政治面貌",
    "专业技能",
    "入队日期",
]


def make_id(n: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=n % 16000)
    first17 = f"330681{born:%Y%m%d}{(n // 16000) % 1000:03d}"
    return first17 + check_character(first17)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)


def xlsx(rows, *, title: str | None = "红枫义警总队队员名册", headers=HEADERS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def good_rows(count: int, start: int = 0):
    return [
        [
            f"队员{chr(0x4E00 + i % 500)}{chr(0x4E00 + i // 500)}",
            make_id(i + start),
            f"135{i + start:08d}",
            "第一分队",
            "第一小组",
            "学生",
            "群众",
            "急救",
            "2024-03-01",
        ]
        for i in range(count)
    ]
