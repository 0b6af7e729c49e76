"""Roster files that are not what they seem (issue 15, items 2.6 and 3.4): XML with a DOCTYPE
(XXE, billion laughs), zip bombs, a million blank rows, stored sizes that lie, huge cells,
parser failures in the worker, and files that are not xlsx at all (a CSV renamed .xlsx)."""

import io
import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from hongfeng.core import sheet_reader
from hongfeng.core.errors import DomainError
from hongfeng.core.filetypes import FileKind, identify
from hongfeng.members import importing, roster_checks
from hongfeng.members.models import ImportStatus
from hongfeng.members.roster import read_roster, read_rows
from tests.support.rosters import HEADERS, good_rows, make_id, xlsx
from tests.support.xlsx_files import BILLION_LAUGHS, XXE, package, sheet_xml
from tests.support.xlsx_files import roster as crafted_roster

DOCTYPE_MESSAGE = "DOCTYPE 或实体"


def _start(cast, content: bytes, filename: str = "名册.xlsx"):
    return importing.start_import(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename=filename,
        content=content,
        consent_confirmed=True,
    )


def _validated(cast, content: bytes):
    """Upload and let the queued task (the worker's code) validate it."""
    roster_import = _start(cast, content)
    importing.run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    return roster_import


def _utf16_sheet_with_doctype() -> bytes:
    xml = sheet_xml([(1, ["姓名", "&lol4;"])], prolog=BILLION_LAUGHS)
    return xml.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")


def _laughs_in_another_part() -> bytes:
    return package(
        sheet_xml([(1, ["姓名", "身份证号", "手机号"])]),
        extra={"customXml/item1.xml": f'<?xml version="1.0"?>{BILLION_LAUGHS}<r>&lol4;</r>'},
    )


def _padded_doctype() -> str:
    """No XML declaration, 100 KB of whitespace, then the DOCTYPE: well-formed XML."""
    xml = sheet_xml([(1, ["姓名", "&lol4;"])], prolog=BILLION_LAUGHS)
    return " " * 100_000 + xml.split("?>", 1)[1]


HOSTILE = {
    "billion laughs in the sheet": crafted_roster(
        [(2, ["&lol4;", make_id(1), "13512345678"])], prolog=BILLION_LAUGHS
    ),
    "XXE in the sheet": crafted_roster([(2, ["&xxe;", make_id(1), "13512345678"])], prolog=XXE),
    "billion laughs in the workbook part": package(
        sheet_xml([(1, ["姓名", "身份证号", "手机号"])]), workbook_prolog=BILLION_LAUGHS
    ),
    "a UTF-16 sheet with a DOCTYPE": package(_utf16_sheet_with_doctype()),
    "a DOCTYPE in a part openpyxl does not need": _laughs_in_another_part(),
    "a DOCTYPE after 100 KB of whitespace": package(_padded_doctype()),
    "a DOCTYPE in a sheet not named .xml": package(
        _padded_doctype(), sheet_part="worksheets/sheet1.bin"
    ),
}


class TestHostileXml:
    @pytest.mark.parametrize("name", HOSTILE)
    def test_doctype_and_entities_are_refused(self, cast, name):
        with pytest.raises(DomainError) as exc:
            read_rows(HOSTILE[name], cast.units["hongfeng"])
        assert exc.value.code == "corrupt_file"
        assert DOCTYPE_MESSAGE in exc.value.message

    @pytest.mark.parametrize("name", HOSTILE)
    def test_the_worker_marks_the_import_failed(self, cast, name):
        """Before: a parse error in the worker left the import 正在逐行校验… forever, or
        stored a 3,000,000-character cell in the report."""
        roster_import = _validated(cast, HOSTILE[name])
        assert roster_import.status == ImportStatus.FAILED
        assert roster_import.error_code == "corrupt_file"
        assert DOCTYPE_MESSAGE in roster_import.message
        assert bytes(roster_import.content) == b"" and roster_import.report == []

    def test_api_reports_the_code(self, cast, api_as, django_capture_on_commit_callbacks):
        api = api_as("captain")
        with django_capture_on_commit_callbacks(execute=True):  # the task runs on commit
            response = api.client.post(
                "/api/v1/roster-imports",
                {
                    "team_id": cast.units["hongfeng"].pk,
                    "consent_confirmed": True,
                    "file": SimpleUploadedFile("名册.xlsx", HOSTILE["XXE in the sheet"]),
                },
            )
        assert response.status_code == 201, response.content
        body = api.get(f"/roster-imports/{response.json()['id']}").json()
        assert body["status"] == "failed" and body["error_code"] == "corrupt_file"
        assert "/etc/passwd" not in json.dumps(body) and "root:" not in json.dumps(body)


class TestUnreadableFiles:
    def test_any_exception_in_the_worker_fails_the_import(self, cast, monkeypatch):
        """Whatever breaks while validating, the import ends (never stays in progress)."""

        def broken(*args, **kwargs):
            raise ZeroDivisionError

        monkeypatch.setattr(importing, "read_roster", broken)
        roster_import = _validated(cast, xlsx(good_rows(2)))
        assert roster_import.status == ImportStatus.FAILED
        assert roster_import.error_code == "import_failed" and "未导入任何队员" in (
            roster_import.message
        )

    def test_a_sheet_that_breaks_the_parser(self, cast):
        broken = package('<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r=')
        roster_import = _validated(cast, broken)
        assert roster_import.status == ImportStatus.FAILED
        assert roster_import.error_code == "corrupt_file" and "损坏" in roster_import.message

    def test_zip_bomb_is_refused_before_parsing(self, cast):
        bomb = package(
            sheet_xml([(1, ["姓名", "身份证号", "手机号"])]),
            extra={"xl/media/padding.xml": b"<a>" + b" " * (45 * 1024 * 1024) + b"</a>"},
        )
        assert len(bomb) < 1024 * 1024  # small on the wire
        roster_import = _validated(cast, bomb)
        assert roster_import.status == ImportStatus.FAILED
        assert roster_import.error_code == "file_too_large" and "解压后" in roster_import.message

    def test_binary_parts_are_left_alone(self, cast):
        """Pictures and printer settings are not XML and do not make a file corrupt."""
        content = crafted_roster(
            [(2, ["张三丰", make_id(1), "13512345678"])],
        )
        buffer = io.BytesIO(content)
        with zipfile.ZipFile(buffer, "a") as archive:
            archive.writestr("xl/media/image1.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
            archive.writestr("xl/printerSettings/printerSettings1.bin", b"M\x00S\x00<\x00\x01")
        assert len(zipfile.ZipFile(buffer).namelist()) == 7
        (row,) = read_rows(buffer.getvalue(), cast.units["hongfeng"])
        assert row.ok, row.errors

    def test_too_many_parts(self, cast):
        parts = {f"xl/junk/{n}.bin": b"x" for n in range(sheet_reader.MAX_PARTS + 1)}
        content = package(sheet_xml([(1, ["姓名"])]), extra=parts)
        with pytest.raises(DomainError) as exc:
            read_rows(content, cast.units["hongfeng"])
        assert exc.value.code == "corrupt_file"


class TestBoundedRows:
    def test_a_million_rows_below_one_data_row(self, cast, page_as):
        """One data row, a stored size of a million rows by 16,384 columns, and a cell in the
        last row: read in well under a second, the rest left unread and said so."""
        content = crafted_roster(
            [(2, ["张三丰", make_id(1), "13512345678"]), (1_048_576, ["尾巴"])],
            dimension="A1:XFD1048576",
        )
        started = time.monotonic()
        result = read_roster(content, cast.units["hongfeng"])
        assert time.monotonic() - started < 5
        assert [row.name for row in result.rows] == ["张三丰"]
        assert "连续 1000 行为空，已视为名册结束" in result.notice
        roster_import = _validated(cast, content)
        assert roster_import.total_rows == 1 and "已视为名册结束" in roster_import.message
        page = page_as("captain").get(f"/members/roster/{roster_import.pk}/").content.decode()
        assert "已视为名册结束" in page  # said where the office decides to import

    def test_formatted_blank_rows_stop_reading(self, cast):
        """LibreOffice writes every formatted row, empty or not."""
        blank = [(n, [None]) for n in range(3, 60_000)]
        xml = sheet_xml(
            [(1, ["姓名", "身份证号", "手机号"]), (2, ["张三丰", make_id(1), "13512345678"])]
        )
        rows_xml = "".join(f'<row r="{n}"><c r="A{n}" s="1"/></row>' for n, _ in blank)
        content = package(xml.replace("</sheetData>", rows_xml + "</sheetData>"))
        rows = sheet_reader.read_first_sheet(content, max_rows=100_000, blank_run=1000).rows
        assert len(rows) == 2  # the trailing blank run is not kept

    def test_every_row_counts_towards_the_limit(self):
        """Blank rows count too: data rows between long gaps cannot keep a worker busy."""
        rows = [(n, ["x"] if n % 500 == 0 else [None]) for n in range(1, 3000)]
        content = package(sheet_xml([(n, v) for n, v in rows if v[0]]))
        with pytest.raises(DomainError) as exc:
            sheet_reader.read_first_sheet(content, max_rows=2000, blank_run=1000)
        assert exc.value.code == "too_many_rows" and "含空行" in exc.value.message

    def test_wide_rows_are_cut_to_the_columns_we_read(self, cast):
        header = ["姓名", "身份证号", "手机号"] + [None] * 16_000 + ["远处的列"]
        content = package(sheet_xml([(1, header), (2, ["张三丰", make_id(1), "13512345678"])]))
        (row,) = read_rows(content, cast.units["hongfeng"])
        assert row.ok, row.errors

    def test_long_cells_are_cut_in_the_report(self, cast):
        huge = "张" * 3_000_000
        content = crafted_roster([(2, [huge, make_id(1), "13512345678", huge])])
        roster_import = _validated(cast, content)
        assert roster_import.status == ImportStatus.VALIDATED
        (entry,) = roster_import.report
        assert len(entry["name"]) <= roster_checks.REPORT_NAME_CHARS
        assert all(len(text) <= roster_checks.REPORT_TEXT_CHARS for text in entry["errors"])
        assert len(json.dumps(roster_import.report, ensure_ascii=False)) < 2000


def _zip(parts: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


NOT_XLSX = [
    ("csv", "姓名,身份证号,手机号\n张三,330681199003150038,13900000033\n".encode(), "CSV 文本文件"),
    ("csv in GBK", "姓名,身份证号\n张三,1\n李四,2\n".encode("gbk"), "CSV 文本文件"),
    ("tab separated", b"name\tid\nzhang\t1\n", "CSV 文本文件"),
    ("plain text", "这是一份名册说明".encode(), "纯文本文件"),
    ("old xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "旧版 Excel 文件（.xls）"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "PDF 文件"),
    ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "图片"),
    ("jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 40, "图片"),
    ("html posing as xls", b"<html><body><table><tr><td>1</td></tr></table>", "网页（HTML）"),
    (
        "excel 2003 xml",
        b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">',
        "Excel 2003 XML",
    ),
    (
        "ods",
        _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": ""}),
        ".ods",
    ),
    ("docx", _zip({"[Content_Types].xml": "", "word/document.xml": ""}), "Word 文档"),
    ("zip", _zip({"名册.xlsx": "x"}), "压缩包"),
    ("binary", bytes(range(256)) * 4, "无法识别该文件的格式"),
]


class TestWhatTheFileReallyIs:
    @pytest.mark.parametrize(("name", "content", "said"), NOT_XLSX, ids=[n[0] for n in NOT_XLSX])
    def test_upload_says_what_it_is(self, cast, name, content, said):
        """A CSV renamed .xlsx used to be refused with a message about .xls."""
        with pytest.raises(DomainError) as exc:
            _start(cast, content, filename="名册.xlsx")
        assert exc.value.code == "not_xlsx"
        assert said in exc.value.message
        assert ".xlsx" in exc.value.message  # and what to do instead

    def test_the_worker_says_it_too(self, cast):
        with pytest.raises(DomainError) as exc:
            read_rows(NOT_XLSX[0][1], cast.units["hongfeng"])
        assert (
            exc.value.message
            == "这是一个 CSV 文本文件，请在 Excel 或 WPS 中打开，另存为 .xlsx 后再上传。"
        )

    def test_page_and_api(self, cast, page_as, api_as):
        team = cast.units["hongfeng"]
        page = page_as("captain").post(
            f"/members/roster/?team={team.pk}",
            {"file": SimpleUploadedFile("名册.xlsx", NOT_XLSX[0][1]), "consent": "on"},
        )
        assert "这是一个 CSV 文本文件" in page.content.decode()
        response = api_as("captain").client.post(
            "/api/v1/roster-imports",
            {
                "team_id": team.pk,
                "consent_confirmed": True,
                "file": SimpleUploadedFile("名册.xlsx", NOT_XLSX[5][1]),
            },
        )
        assert response.status_code == 400
        assert response.json()["code"] == "not_xlsx" and "PDF" in response.json()["message"]

    def test_a_real_workbook_is_taken_whatever_its_name(self, cast):
        assert identify(xlsx(good_rows(1))) == FileKind.XLSX
        roster_import = _validated(cast, xlsx(good_rows(1)))
        assert roster_import.status == ImportStatus.VALIDATED
        renamed = _start(cast, xlsx(good_rows(1, start=5)), filename="名册.xls")
        assert renamed.status == ImportStatus.UPLOADED


def test_corrupt_sheet_fails_instead_of_hanging(cast):
    original = zipfile.ZipFile(io.BytesIO(xlsx(good_rows(2))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as damaged:
        for item in original.infolist():
            data = original.read(item.filename)
            if item.filename.endswith("sheet1.xml"):
                data = data[: len(data) // 2]  # truncated XML
            damaged.writestr(item, data)
    roster_import = importing.start_import(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename="坏.xlsx",
        content=out.getvalue(),
        consent_confirmed=True,
    )
    importing.run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    assert roster_import.status == ImportStatus.FAILED and "损坏" in roster_import.message
    assert bytes(roster_import.content) == b""


def test_formatted_empty_rows_do_not_count(cast):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADERS)
    sheet.append(good_rows(1)[0])
    for row in range(3, 12003):
        sheet.cell(row=row, column=2).number_format = "@"
        sheet.cell(row=row, column=2).value = ""
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert len(read_rows(buffer.getvalue(), cast.units["hongfeng"])) == 1
