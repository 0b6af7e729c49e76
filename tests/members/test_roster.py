"""Roster onboarding from Excel (4.5 队伍一键入驻): messy real-world files, the all-or-nothing
rule, "valid rows only", the report, the template, the export (issue 3)."""

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from hongfeng.accounts.models import RoleAssignment
from hongfeng.audit.models import AuditEvent
from hongfeng.audit.services import verify_chains
from hongfeng.core.demo import DEMO_PASSWORD
from hongfeng.core.errors import DomainError, Forbidden
from hongfeng.members import importing, spreadsheets
from hongfeng.members.models import Consent, ImportStatus, Member
from hongfeng.members.roster import read_rows
from tests.support.rosters import HEADERS, full_width, good_rows, make_id, xlsx


def _import(
    cast,
    content: bytes,
    *,
    valid_only=False,
    who="captain",
    django_capture_on_commit_callbacks=None,
):
    actor = cast.users[who]
    roster_import = importing.start_import(
        actor=actor,
        team=cast.units["hongfeng"],
        filename="名册.xlsx",
        content=content,
        consent_confirmed=True,
    )
    importing.run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    return roster_import


class TestReading:
    def test_messy_office_file_is_repaired_where_safe(self, cast):
        rows = read_rows(
            xlsx(
                [
                    [
                        "张 三丰",
                        full_width(make_id(1)[:6]) + " " + make_id(1)[6:],
                        13512345678.0,
                        "第一分队",
                        "第一小组",
                        "退休干部",
                        "中共党员",
                        "急救、法律咨询",
                        45352,
                    ],
                    [
                        "李四",
                        make_id(2)[:-1] + make_id(2)[-1].lower(),
                        "135 1234 5679",
                        "",
                        "第三小组",
                        "",
                        "",
                        "",
                        date(2023, 5, 4),
                    ],
                    [
                        "王五",
                        make_id(3),
                        "+86 135-1234-5670",
                        "第二分队",
                        "",
                        "学生",
                        "群众",
                        "",
                        "2022年7月1日",
                    ],
                ]
            ),
            cast.units["hongfeng"],
        )
        first, second, third = rows
        assert first.ok, first.errors
        assert first.name == "张三丰" and first.mobile == "13512345678"
        assert first.joined_on == date(2024, 3, 1)  # Excel serial 45352
        assert first.skills == ["first_aid", "law"] and first.category == "retired_cadre"
        assert first.unit == cast.units["hongfeng_group1"]
        assert any("全角" in note for note in first.notes)
        assert second.ok and second.id_number.endswith(make_id(2)[-1].upper())
        assert second.unit == cast.units["hongfeng_group3"]  # unique group name, no squad
        assert third.ok and third.mobile == "13512345670"
        assert third.unit == cast.units["hongfeng_squad2"] and third.joined_on == date(2022, 7, 1)

    def test_lost_id_digits_are_never_guessed(self, cast):
        rows = read_rows(
            xlsx(
                [
                    ["赵六", 3.30681199001011e17, "13512345671"],
                    ["钱七", "3.30681E+17", "13512345672"],
                ],
                headers=HEADERS[:3],
            ),
            cast.units["hongfeng"],
        )
        for row in rows:
            assert not row.ok and row.id_number == ""
            assert "末尾几位已丢失，无法恢复" in row.errors[0]

    @pytest.mark.parametrize(
        ("row", "message"),
        [
            (
                ["孙八", make_id(4)[:-1] + ("0" if make_id(4)[-1] != "0" else "1"), "13512345673"],
                "校验位",
            ),
            (["孙八", make_id(4), "1351234567"], "手机号应为11位"),
            (["孙八", make_id(4), "13512345673", "第九分队"], "分队「第九分队」"),
            (["孙八", make_id(4), "13512345673", "第一分队", "第三小组"], "不在第一分队之下"),
            (["孙八", make_id(4), "13512345673", "", "", "农民"], "人员类别「农民」"),
            (["孙八", make_id(4), "13512345673", "", "", "", "", "杂技"], "技能「杂技」"),
            (["孙八", make_id(4), "13512345673", "", "", "", "", "", "去年春天"], "无法识别"),
            (["", make_id(4), "13512345673"], "姓名为空"),
        ],
    )
    def test_bad_rows_say_why(self, cast, row, message):
        (result,) = read_rows(xlsx([row]), cast.units["hongfeng"])
        assert not result.ok
        assert any(message in error for error in result.errors), result.errors

    @pytest.mark.parametrize(
        ("content", "code"),
        [
            (b"", "empty_file"),
            (b"name,id\n", "not_xlsx"),
            (b"PK\x03\x04broken", "corrupt_file"),
            (xlsx([], headers=["编号", "备注"]), "no_header"),
            (xlsx([]), "empty_roster"),
        ],
    )
    def test_bad_files(self, cast, content, code):
        with pytest.raises(DomainError) as exc:
            read_rows(content, cast.units["hongfeng"])
        assert exc.value.code == code

    def test_oversized_file(self, cast):
        with pytest.raises(DomainError) as exc:
            importing.start_import(
                actor=cast.users["captain"],
                team=cast.units["hongfeng"],
                filename="a.xlsx",
                content=b"PK" + b"0" * (11 * 1024 * 1024),
                consent_confirmed=True,
            )
        assert exc.value.code == "file_too_large"
        with pytest.raises(DomainError) as exc:
            importing.start_import(
                actor=cast.users["captain"],
                team=cast.units["hongfeng"],
                filename="a.xls",
                content=b"PK",
                consent_confirmed=True,
            )
        assert exc.value.code == "not_xlsx"


class TestImport:
    def test_all_good_rows_import_in_one_go(self, cast):
        before = Member.objects.count()
        roster_import = _import(cast, xlsx(good_rows(30)))
        assert roster_import.status == ImportStatus.VALIDATED
        assert (roster_import.valid_rows, roster_import.error_rows) == (30, 0)
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=False
        )
        importing.run_import(roster_import.pk)
        roster_import.refresh_from_db()
        assert roster_import.status == ImportStatus.DONE and roster_import.imported_rows == 30
        assert bytes(roster_import.content) == b""  # the upload is not kept
        assert Member.objects.count() == before + 30
        member = Member.objects.get(user__mobile="13500000007")
        assert member.status == "active" and member.unit == cast.units["hongfeng_group1"]
        assert RoleAssignment.objects.active().get(user=member.user).role == "volunteer"
        assert (
            AuditEvent.objects.filter(
                action="member.registered", summary__import=roster_import.pk
            ).count()
            == 30
        )
        assert [p for r in verify_chains() for p in r.problems] == []

    def test_any_bad_row_blocks_the_whole_import(self, cast):
        rows = [*good_rows(5), ["坏行", "123", "13500009999"]]
        roster_import = _import(cast, xlsx(rows))
        assert roster_import.error_rows == 1
        assert roster_import.report[0]["row"] == 8  # title row + header + 5 rows + this one
        before = Member.objects.count()
        with pytest.raises(DomainError) as exc:
            importing.confirm_import(
                actor=cast.users["captain"], roster_import=roster_import, valid_only=False
            )
        assert exc.value.code == "rows_have_errors"
        assert Member.objects.count() == before

    def test_valid_rows_only_when_asked(self, cast):
        rows = [*good_rows(5), ["坏行", "123", "13500009999"]]
        roster_import = _import(cast, xlsx(rows))
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=True
        )
        importing.run_import(roster_import.pk)
        roster_import.refresh_from_db()
        assert roster_import.imported_rows == 5 and "跳过 1 行" in roster_import.message

    def test_duplicates_in_file_and_against_members(self, cast):
        from hongfeng.members.demo import VOLUNTEER_ID_NUMBER

        rows = good_rows(2)
        rows.append([rows[0][0], rows[0][1], "13500008888"])
        rows.append(["张三", VOLUNTEER_ID_NUMBER, "13500007777"])
        rows.append(["楼某", make_id(900), "13900000033"])  # 张三's number
        roster_import = _import(cast, xlsx(rows))
        errors = {entry["row"]: " ".join(entry["errors"]) for entry in roster_import.report}
        assert "与第 3 行身份证号重复" in errors[5]
        assert "已有队员档案" in errors[6]
        assert "已属于另一名队员" in errors[7]

    def test_retried_tasks_do_nothing_twice(self, cast):
        roster_import = _import(cast, xlsx(good_rows(3)))
        importing.run_validation(roster_import.pk)  # a retry: already validated
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=False
        )
        importing.run_import(roster_import.pk)
        importing.run_import(roster_import.pk)
        roster_import.refresh_from_db()
        assert roster_import.imported_rows == 3
        assert Member.objects.filter(user__mobile__startswith="135000000").count() == 3

    def test_only_keepers_import(self, cast):
        with pytest.raises(Forbidden):
            importing.start_import(
                actor=cast.users["group_leader"],
                team=cast.units["hongfeng"],
                filename="a.xlsx",
                content=xlsx(good_rows(1)),
                consent_confirmed=True,
            )

    def test_imported_member_cannot_log_in_until_a_password_is_set(self, cast, client):
        roster_import = _import(cast, xlsx(good_rows(1)))
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=False
        )
        importing.run_import(roster_import.pk)
        response = client.post("/login/", {"mobile": "13500000000", "password": DEMO_PASSWORD})
        assert response.status_code == 200

    def test_five_thousand_rows(self, cast, django_assert_max_num_queries):
        """A whole county's roster: validated and imported through the bulk path, with a
        query count that does not grow with the rows."""
        content = xlsx(good_rows(5000, start=10000))
        roster_import = _import(cast, content)
        assert roster_import.valid_rows == 5000, roster_import.report[:3]
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=False
        )
        with django_assert_max_num_queries(400):
            importing.run_import(roster_import.pk)
        roster_import.refresh_from_db()
        assert roster_import.imported_rows == 5000


class TestSpreadsheets:
    def test_template_round_trip(self, cast):
        content = spreadsheets.roster_template(cast.units["hongfeng"])
        sheet = load_workbook(io.BytesIO(content)).active
        assert sheet["A2"].value == "姓名" and sheet["B3"].number_format == "@"
        sheet["A3"], sheet["B3"], sheet["C3"], sheet["D3"] = (
            "周九",
            make_id(77),
            "13512340077",
            "第一分队",
        )
        buffer = io.BytesIO()
        sheet.parent.save(buffer)
        (row,) = read_rows(buffer.getvalue(), cast.units["hongfeng"])
        assert row.ok and row.unit == cast.units["hongfeng_squad1"]

    def test_export_is_masked_unless_revealed(self, cast):
        members = Member.objects.filter(name="张三").select_related("unit", "user")
        masked = spreadsheets.roster_export(
            members, viewer=cast.users["captain"], reveal=False, unit=cast.units["hongfeng"]
        )
        sheet = load_workbook(io.BytesIO(masked)).active
        # row 1: title and watermark (who exported, when); row 2: which members; row 3: header
        assert sheet["D4"].value == "3306**********0038" and sheet["E4"].value == "139****0033"
        assert "楼红枫" in sheet["A1"].value and "不含暂停、已退出" in sheet["A2"].value


class TestPagesAndApi:
    def test_upload_confirm_and_report_pages(
        self, cast, page_as, django_capture_on_commit_callbacks
    ):
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = page_as("captain")
        team = cast.units["hongfeng"]
        assert "下载名册模板" in client.get(f"/members/roster/?team={team.pk}").content.decode()
        rows = [*good_rows(3), ["坏行", "123", "13500009999"]]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/members/roster/?team={team.pk}",
                {"file": SimpleUploadedFile("名册.xlsx", xlsx(rows)), "consent": "on"},
            )
        assert response.status_code == 302
        page = client.get(response.url).content.decode()
        assert "仅导入通过校验的 3 行" in page and "身份证号应为18位" in page
        report = client.get(response.url + "report.xlsx")
        assert report["Content-Type"] == spreadsheets.XLSX
        sheet = load_workbook(io.BytesIO(report.content)).active
        assert sheet["A3"].value == 6 and "18位" in sheet["D3"].value
        with django_capture_on_commit_callbacks(execute=True):
            client.post(response.url + "confirm/", {"valid_only": "1"})
        assert "已导入 3 名队员" in client.get(response.url).content.decode()

    def test_upload_errors_are_shown(self, cast, page_as):
        from django.core.files.uploadedfile import SimpleUploadedFile

        client = page_as("captain")
        team = cast.units["hongfeng"]
        response = client.post(
            f"/members/roster/?team={team.pk}",
            {"file": SimpleUploadedFile("名册.csv", b"a,b"), "consent": "on"},
        )
        # what the file really is, from its bytes (3.4)
        assert "这是一个 CSV 文本文件" in response.content.decode()
        assert page_as("squad_leader").get(f"/members/roster/?team={team.pk}").status_code == 404
        assert page_as("group_leader").get(f"/members/roster/?team={team.pk}").status_code == 404

    def test_template_download(self, cast, page_as):
        team = cast.units["hongfeng"]
        response = page_as("captain").get(f"/members/roster/template.xlsx?team={team.pk}")
        assert response.status_code == 200
        assert load_workbook(io.BytesIO(response.content)).active["A2"].value == "姓名"

    def test_export_masked_and_revealed(self, cast, page_as):
        from hongfeng.members.demo import VOLUNTEER_ID_NUMBER

        team = cast.units["hongfeng"]
        client = page_as("captain")
        masked = client.post("/members/roster/export.xlsx", {"unit": team.pk})
        assert VOLUNTEER_ID_NUMBER.encode() not in masked.content
        text = " ".join(
            str(c.value) for row in load_workbook(io.BytesIO(masked.content)).active for c in row
        )
        assert "3306**********0038" in text and VOLUNTEER_ID_NUMBER not in text
        refused = client.post(
            "/members/roster/export.xlsx", {"unit": team.pk, "reveal": "1", "reason": ""}
        )
        assert refused.status_code == 302
        revealed = client.post(
            "/members/roster/export.xlsx",
            {"unit": team.pk, "reveal": "1", "reason": "办理团体保险"},
        )
        text = " ".join(
            str(c.value) for row in load_workbook(io.BytesIO(revealed.content)).active for c in row
        )
        assert VOLUNTEER_ID_NUMBER in text
        events = AuditEvent.objects.filter(action="member.exported").order_by("id")
        assert [e.summary["reveal"] for e in events] == [False, True]
        squad = page_as("squad_leader").post(
            "/members/roster/export.xlsx",
            {"unit": cast.units["hongfeng_squad1"].pk, "reveal": "1", "reason": "想看看明文"},
        )
        assert squad.status_code == 403

    def test_api(self, cast, api_as, django_capture_on_commit_callbacks):
        from django.core.files.uploadedfile import SimpleUploadedFile

        api = api_as("captain")
        with django_capture_on_commit_callbacks(execute=True):
            response = api.client.post(
                "/api/v1/roster-imports",
                {
                    "team_id": cast.units["hongfeng"].pk,
                    "consent_confirmed": True,
                    "file": SimpleUploadedFile("名册.xlsx", xlsx(good_rows(2))),
                },
            )
        assert response.status_code == 201, response.content
        import_id = response.json()["id"]
        body = api.get(f"/roster-imports/{import_id}").json()
        assert body["status"] == "validated" and body["valid_rows"] == 2
        with django_capture_on_commit_callbacks(execute=True):
            body = api.post(f"/roster-imports/{import_id}/confirm", {}).json()
        assert api.get(f"/roster-imports/{import_id}").json()["imported_rows"] == 2
        # T5: both write endpoints left audit rows
        actions = set(
            AuditEvent.objects.filter(summary__import=import_id).values_list("action", flat=True)
        )
        assert {"roster.uploaded", "roster.confirmed", "roster.imported"} <= actions
        assert api_as("outside_captain").get(f"/roster-imports/{import_id}").status_code == 404


def test_database_queue_and_worker(live_cast, settings):
    """The real background path: the upload queues a task in the database; `hongfeng
    db_worker` picks it up (here in batch mode) and the import is validated — and a file with a
    DOCTYPE (billion laughs) ends failed with `corrupt_file`, never stuck "in progress" (2.6)."""
    from django.core.management import call_command

    from hongfeng.members.models import RosterImport
    from tests.support.xlsx_files import BILLION_LAUGHS
    from tests.support.xlsx_files import roster as crafted_roster

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    uploads = [
        importing.start_import(
            actor=live_cast.users["captain"],
            team=live_cast.units["hongfeng"],
            filename="名册.xlsx",
            content=content,
            consent_confirmed=True,
        )
        for content in (
            xlsx(good_rows(2)),
            crafted_roster([(2, ["&lol4;", make_id(1), "13512345678"])], prolog=BILLION_LAUGHS),
        )
    ]
    assert {RosterImport.objects.get(pk=u.pk).status for u in uploads} == {ImportStatus.UPLOADED}
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    good, hostile = (RosterImport.objects.get(pk=u.pk) for u in uploads)
    assert good.status == ImportStatus.VALIDATED
    assert hostile.status == ImportStatus.FAILED and hostile.error_code == "corrupt_file"


def test_import_is_claimed_once(cast):
    roster_import = importing.import_synchronously(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename="a.xlsx",
        content=xlsx(good_rows(3)),
    )
    importing.run_import(roster_import.pk)  # a duplicated task
    roster_import.refresh_from_db()
    assert roster_import.status == ImportStatus.DONE and roster_import.imported_rows == 3
    assert AuditEvent.objects.filter(action="roster.imported").count() == 2  # demo + this


def test_imports_need_consent_and_record_it(cast):
    with pytest.raises(DomainError) as exc:
        importing.start_import(
            actor=cast.users["captain"],
            team=cast.units["hongfeng"],
            filename="a.xlsx",
            content=xlsx(good_rows(1)),
            consent_confirmed=False,
        )
    assert exc.value.code == "consent_required"
    importing.import_synchronously(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename="a.xlsx",
        content=xlsx(good_rows(1)),
    )
    member = Member.objects.get(user__mobile="13500000000")
    assert Consent.objects.filter(user=member.user, kind="privacy").exists()


def test_a_killed_import_can_simply_run_again(cast, monkeypatch):
    """T9 in small: a worker dying in the middle leaves nothing half-written and nothing stuck."""
    roster_import = importing.start_import(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename="a.xlsx",
        content=xlsx(good_rows(4)),
        consent_confirmed=True,
    )
    importing.run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    importing.confirm_import(
        actor=cast.users["captain"], roster_import=roster_import, valid_only=False
    )
    before = Member.objects.count()
    real = importing.record_events

    def dies(*args, **kwargs):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(importing, "record_events", dies)
    with pytest.raises(RuntimeError):
        importing.run_import(roster_import.pk)
    roster_import.refresh_from_db()
    assert roster_import.status == ImportStatus.IMPORTING and Member.objects.count() == before
    monkeypatch.setattr(importing, "record_events", real)
    importing.run_import(roster_import.pk)
    roster_import.refresh_from_db()
    assert roster_import.status == ImportStatus.DONE and Member.objects.count() == before + 4
