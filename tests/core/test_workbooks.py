"""Formula injection in the workbooks we write (issue 15, item 2.1): one helper,
`hongfeng.core.workbooks`, writes every text as a string cell with a formula-like start
neutralised; every export goes through it; names that start like a formula are refused."""

import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

import hongfeng
from hongfeng.accounts.services import bootstrap_three_powers_account
from hongfeng.activities.models import AttendanceNotice
from hongfeng.activities.services import publish_attendance_notice
from hongfeng.core.errors import DomainError
from hongfeng.core.workbooks import (
    FORMULA_PREFIXES,
    MAX_CELL_CHARS,
    Column,
    Kind,
    WorkbookWriter,
    looks_like_formula,
    safe_text,
)
from hongfeng.members import services
from hongfeng.members.models import Application, Member, Skill
from hongfeng.orgs.models import Unit
from tests.support.rosters import make_id
from tests.support.xlsx_files import roster as crafted_roster

PAYLOADS = [
    '=HYPERLINK("http://e.x","点")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",
]


def sheet_xml(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        }


def texts(content: bytes) -> list[str]:
    workbook = load_workbook(io.BytesIO(content))  # formulas kept as formulas
    values = []
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.append(cell.value)
    return values


def assert_safe(content: bytes, *expected: str) -> None:
    """No formula anywhere in the file; no text starts like one; and the payloads did reach
    the file (neutralised), so the check is not vacuous."""
    for name, xml in sheet_xml(content).items():
        assert not re.search(r"<f[ >]", xml), name
    values = texts(content)
    assert not [v for v in values if v.startswith(FORMULA_PREFIXES)]
    joined = "\n".join(values)
    for payload in expected:
        assert "'" + payload.replace("\r", "\n") in joined.replace("\r", "\n"), payload


class TestHelper:
    @pytest.mark.parametrize("payload", PAYLOADS)
    def test_every_kind_of_column_neutralises_text(self, payload):
        book = WorkbookWriter()
        sheet = book.add_sheet(
            payload[:10],
            [Column(payload), Column("b", Kind.GENERAL), Column("c", Kind.NUMBER)],
            title=payload,
            notes=[payload],
        )
        sheet.append([payload, payload, payload])
        book.add_text_sheet("说明", [payload], title=payload)
        content = book.to_bytes()
        assert_safe(content, payload)
        # (XML turns a carriage return into a line feed when read back)
        assert load_workbook(io.BytesIO(content)).active["A4"].value == "'" + payload.replace(
            "\r", "\n"
        )

    def test_numbers_and_dates_stay_numbers_and_dates(self):
        book = WorkbookWriter()
        sheet = book.add_sheet(
            "表",
            [
                Column("数", Kind.INTEGER),
                Column("时长", Kind.NUMBER, number_format="0.00"),
                Column("日期", Kind.DATE),
                Column("时间", Kind.DATETIME),
                Column("负数", Kind.GENERAL),
                Column("是否", Kind.GENERAL),
                Column("编号", Kind.TEXT),
            ],
        )
        aware = datetime(2026, 3, 1, 16, 30, tzinfo=ZoneInfo("UTC"))
        # what openpyxl reads back: naive datetimes, in Asia/Shanghai for the aware one
        naive_day, naive_time = datetime(2024, 3, 1), datetime(2026, 3, 2, 0, 30)  # noqa: DTZ001
        sheet.append([7, Decimal("2.50"), date(2024, 3, 1), aware, -5, True, 330681])
        row = list(load_workbook(io.BytesIO(book.to_bytes())).active.iter_rows(values_only=True))
        assert row[1] == (
            7,
            2.5,
            naive_day,
            naive_time,
            -5,
            "是",
            "330681",
        )

    def test_text_is_made_safe_for_xml_and_for_excel(self):
        assert safe_text("张\x00三\x1f") == "张三"
        assert len(safe_text("长" * 40_000)) == MAX_CELL_CHARS
        assert safe_text("张三") == "张三" and safe_text("A-1") == "A-1"
        assert looks_like_formula("-1") and not looks_like_formula("一分队")

    def test_drop_down_choices_live_on_a_hidden_sheet(self):
        book = WorkbookWriter()
        sheet = book.add_sheet("表", [Column("分队", choices=["第一,分队", '"引号"', "=1"])])
        sheet.prepare_rows(5)
        workbook = load_workbook(io.BytesIO(book.to_bytes()))
        options = workbook["选项"]
        assert options.sheet_state == "hidden"
        assert [c.value for c in options["A"]] == ["第一,分队", '"引号"', "'=1"]
        (validation,) = workbook["表"].data_validations.dataValidation
        assert validation.formula1 == "'选项'!$A$1:$A$3"


def test_no_module_writes_workbooks_but_the_helper():
    """Every workbook goes through hongfeng.core.workbooks: nobody else creates an openpyxl
    Workbook or imports its writing API (styles, data validation, the writer)."""
    root = Path(hongfeng.__file__).parent
    allowed = root / "core" / "workbooks.py"
    forbidden = re.compile(
        r"\bWorkbook\(|from openpyxl import [^\n]*\bWorkbook\b|openpyxl\.(styles|writer|"
        r"worksheet\.(datavalidation|write_only))|import openpyxl\b"
    )
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*.py")
        if path != allowed
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if forbidden.search(line)
    ]
    assert offenders == []


@pytest.fixture
def poisoned(cast):
    """Data stored before names were checked: payloads in unit names, member names, a skill,
    and a member who came through an anonymous application."""
    team = cast.units["hongfeng"]
    Unit.objects.filter(pk=team.pk).update(name=PAYLOADS[0])
    Unit.objects.filter(pk=cast.units["hongfeng_squad1"].pk).update(name=PAYLOADS[1])
    Skill.objects.filter(code="first_aid").update(name=PAYLOADS[4])
    members = list(
        Member.objects.filter(unit__path__startswith=team.path, status="active").order_by("pk")[:4]
    )
    for member, payload in zip(members, PAYLOADS[2:6], strict=True):
        Member.objects.filter(pk=member.pk).update(name=payload)
    application = services.submit_application(
        team=team,
        preferred_unit=cast.units["hongfeng_group2"],
        name="李四",
        id_number="11010519491231002X",
        mobile="13612345678",
        password="Apply#Pass2026",
        skills=["first_aid"],
        motivation="守护家乡",
        charter_version=1,
        charter_accepted=True,
        privacy_accepted=True,
        ip="10.1.2.3",
    )
    member = services.approve_application(actor=cast.users["captain"], application=application)
    Member.objects.filter(pk=member.pk).update(name=PAYLOADS[6])
    team.refresh_from_db()
    return team


class TestEveryExport:
    def test_roster_export_masked_and_revealed(self, cast, page_as, poisoned):
        client = page_as("captain")
        masked = client.post("/members/roster/export.xlsx", {"unit": poisoned.pk})
        assert masked.status_code == 200
        assert_safe(masked.content, *PAYLOADS[:5])
        revealed = client.post(
            "/members/roster/export.xlsx",
            {"unit": poisoned.pk, "reveal": "1", "reason": "办理团体保险", "include_left": "1"},
        )
        assert_safe(revealed.content, *PAYLOADS[:7])

    def test_roster_template(self, cast, page_as, poisoned):
        response = page_as("captain").get(f"/members/roster/template.xlsx?team={poisoned.pk}")
        assert_safe(response.content, PAYLOADS[0], PAYLOADS[1])  # team; squad in the list

    def test_validation_report(self, cast, page_as, poisoned, django_capture_on_commit_callbacks):
        rows = [
            (
                n,
                [
                    payload,
                    make_id(n),
                    f"1351234{n:04d}",
                    payload,
                    payload,
                    payload,
                    payload,
                    payload,
                    payload,
                ],
            )
            for n, payload in enumerate(PAYLOADS, start=2)
        ]
        client = page_as("captain")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/members/roster/?team={poisoned.pk}",
                {
                    "file": SimpleUploadedFile("=cmd.xlsx", crafted_roster(rows)),
                    "consent": "on",
                },
            )
        report = client.get(response.url + "report.xlsx")
        assert report.status_code == 200
        assert_safe(report.content, PAYLOADS[0])  # the team's name leads the title

    def test_public_attendance_notice(self, cast, client, poisoned):
        month = AttendanceNotice.objects.filter(team=poisoned).latest("version").month
        notice = publish_attendance_notice(actor=cast.users["captain"], team=poisoned, month=month)
        assert any(row["name"].startswith(("+", "-", "@")) for row in notice.rows)
        response = client.get(f"/public/attendance/{notice.public_id}.xlsx")  # anonymous
        assert response.status_code == 200
        assert_safe(response.content, PAYLOADS[0], PAYLOADS[1])


class TestNamesStartingLikeFormulas:
    @pytest.mark.parametrize("name", ["=张三", "+张三", "-张三", "@张三", "\t=张三", "＝张三"])
    def test_member_names_are_refused(self, cast, api_as, name):
        response = api_as("captain").post(
            "/members",
            {
                "unit_id": cast.units["hongfeng_group2"].pk,
                "name": name,
                "id_number": "11010519491231002X",
                "mobile": "13612345678",
                "consent": True,
            },
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_name"
        assert response.json()["message"] == "姓名不能以 =、+、-、@ 开头。"

    def test_anonymous_application_is_refused(self, cast, client):
        team = cast.units["hongfeng"]
        response = client.post(
            f"/apply/{team.pk}/",
            {
                "name": PAYLOADS[0],
                "id_number": "11010519491231002X",
                "mobile": "13612345678",
                "password": "Apply#Pass2026",
                "password_again": "Apply#Pass2026",
                "charter_version": 1,
                "charter_accepted": "on",
                "privacy_accepted": "on",
            },
        )
        assert "姓名不能以 =、+、-、@ 开头" in response.content.decode()
        assert not Application.objects.filter(mobile="13612345678").exists()

    @pytest.mark.parametrize("name", ["=一分队", "+一分队", "-一分队", "@一分队"])
    def test_unit_names_are_refused(self, cast, api_as, name):
        response = api_as("county_admin").post(
            "/units",
            {
                "parent_id": cast.units["hongfeng"].pk,
                "kind": "squad",
                "name": name,
            },
        )
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_name"
        assert response.json()["message"] == "单位名称不能以 =、+、-、@ 开头。"

    def test_account_names_are_refused(self, cast):
        with pytest.raises(DomainError) as exc:
            bootstrap_three_powers_account(
                mobile="13712345678", name="@管理员", password=None, role="auditor"
            )
        assert exc.value.code == "invalid_name"
