"""Data quality of roster imports and exports (issue 15, items 3.1, 3.2, 3.3 and 3.5): clashing
rows, impossible joining dates (import, API, page), every automatic repair listed, and an export
that says which members it holds."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook

from hongfeng.audit.models import AuditEvent
from hongfeng.core.idnumber import check_character
from hongfeng.members import importing
from hongfeng.members.models import Member
from hongfeng.members.roster import read_rows
from tests.support.rosters import full_width, good_rows, make_id, xlsx
from tests.support.xlsx_files import roster as crafted_roster

TODAY = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def id_born(born: date, serial: int = 123) -> str:
    first17 = f"330681{born:%Y%m%d}{serial:03d}"
    return first17 + check_character(first17)


def id_ending_in_x() -> str:
    return next(n for n in (id_born(date(1990, 1, 1), s) for s in range(1000)) if n[-1] == "X")


def _import(cast, content: bytes):
    roster_import = importing.start_import(
        actor=cast.users["captain"],
        team=cast.units["hongfeng"],
        filename="名册.xlsx",
        content=content,
        consent_confirmed=True,
    )
    importing.run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    return roster_import


def _errors(roster_import) -> dict[int, str]:
    return {entry["row"]: " ".join(entry["errors"]) for entry in roster_import.report}


class TestClashingRows:
    def test_one_id_two_names_flags_both_and_imports_neither(self, cast):
        rows = good_rows(3)
        rows.append(["另一人", rows[0][1], "13500008888"])  # row 6: row 3's ID, another name
        roster_import = _import(cast, xlsx(rows))
        errors = _errors(roster_import)
        assert "与第 6 行：两行身份证号相同而姓名不同，请核对" in errors[3]
        assert "与第 3 行：两行身份证号相同而姓名不同，请核对" in errors[6]
        assert roster_import.valid_rows == 2
        importing.confirm_import(
            actor=cast.users["captain"], roster_import=roster_import, valid_only=True
        )
        importing.run_import(roster_import.pk)
        roster_import.refresh_from_db()
        assert roster_import.imported_rows == 2
        assert not Member.objects.filter(name__in=[rows[0][0], "另一人"]).exists()

    def test_three_rows_one_id(self, cast):
        rows = good_rows(1)
        rows += [[rows[0][0], rows[0][1], "13500008887"], ["第三人", rows[0][1], "13500008886"]]
        errors = _errors(_import(cast, xlsx(rows)))
        assert "与第 4、5 行：两行身份证号相同而姓名不同" in errors[3]
        assert set(errors) == {3, 4, 5}

    def test_the_same_person_twice_keeps_the_first_row(self, cast):
        rows = good_rows(2)
        rows.append([rows[0][0], rows[0][1], rows[0][2]])
        roster_import = _import(cast, xlsx(rows))
        assert _errors(roster_import) == {5: "与第 3 行身份证号重复（同一人），此行不导入"}

    def test_one_mobile_for_two_people_flags_both(self, cast):
        rows = good_rows(2)
        rows[1][2] = rows[0][2]
        errors = _errors(_import(cast, xlsx(rows)))
        assert "与第 4 行手机号相同" in errors[3] and "与第 3 行手机号相同" in errors[4]


class TestJoiningDates:
    BORN = date(1990, 3, 15)  # turned 16 on 2006-03-15

    @pytest.fixture(autouse=True)
    def frozen(self):
        with time_machine.travel(TODAY, tick=False):
            yield

    @pytest.mark.parametrize(
        ("joined", "error"),
        [
            ("2026-06-16", "不能晚于今天"),
            ("2006-03-14", "早于该队员年满16周岁的日子（2006-03-15）"),
            (20000, "早于该队员年满16周岁"),  # an Excel serial: 1954-10-03
            ("2026-06-15", None),
            ("2006-03-15", None),
        ],
    )
    def test_import(self, cast, joined, error):
        row = ["李四", id_born(self.BORN), "13512345678", "", "", "", "", "", joined]
        (result,) = read_rows(xlsx([row]), cast.units["hongfeng"])
        if error is None:
            assert result.ok, result.errors
        else:
            assert any(error in e for e in result.errors), result.errors

    @pytest.mark.parametrize(
        ("joined", "ok"), [("2026-06-16", False), ("2006-03-14", False), ("2006-03-15", True)]
    )
    def test_api(self, cast, api_as, joined, ok):
        response = api_as("captain").post(
            "/members",
            {
                "unit_id": cast.units["hongfeng_group2"].pk,
                "name": "李四",
                "id_number": id_born(self.BORN),
                "mobile": "13612345678",
                "joined_on": joined,
                "consent": True,
            },
        )
        if ok:
            assert response.status_code == 201, response.json()
        else:
            assert response.status_code == 400
            assert response.json()["code"] == "invalid_joined_on"
            assert response.json()["field"] == "joined_on"
            assert not Member.objects.filter(name="李四").exists()

    def test_page_form(self, cast, page_as):
        response = page_as("captain").post(
            f"/members/new/?unit={cast.units['hongfeng_group2'].pk}",
            {
                "name": "李四",
                "id_number": id_born(self.BORN),
                "mobile": "13612345678",
                "joined_on": "2026-07-01",
                "political_status": "masses",
                "category": "student",
                "consent": "on",
            },
        )
        assert response.status_code == 200
        assert "入队日期（2026-07-01）不能晚于今天" in response.content.decode()
        assert not Member.objects.filter(name="李四").exists()


class TestEveryRepairIsListed:
    """3.3: the 已自动修正 column lists every correction; before, several were silent."""

    @pytest.mark.parametrize(
        ("values", "note"),
        [
            ({"mobile": 13512345678}, "手机号：以数字保存，已按文本读取"),
            ({"mobile": "135 1234 5678"}, "手机号：去除了空格或横线"),
            ({"mobile": "135-1234-5678"}, "手机号：去除了空格或横线"),
            ({"mobile": "+8613512345678"}, "手机号：去除了 +86 前缀"),
            ({"mobile": full_width("13512345678")}, "手机号：全角数字改为半角"),
            ({"name": "张 三丰"}, "姓名：去除了空格"),
            ({"name": " 张三丰 "}, "姓名：去除了空格"),
            ({"name": "张三丰\u3000"}, "姓名：去除了空格"),
            ({"name": "Ｌｉ"}, "姓名：全角字符改为半角"),
            ({"id": full_width(make_id(1))}, "身份证号：全角字符改为半角"),
            ({"id": make_id(1)[:6] + " " + make_id(1)[6:]}, "身份证号：去除了空格或横线"),
            ({"id": id_ending_in_x().lower()}, "身份证号：末位小写 x 改为大写 X"),
            ({"joined": 45352}, "入队日期：Excel 日期序号 45352 转为 2024-03-01"),
            ({"joined": "2022年7月1日"}, "入队日期：文字「2022年7月1日」识别为 2022-07-01"),
            ({"joined": "2024/3/1"}, "入队日期：文字「2024/3/1」识别为 2024-03-01"),
            ({"squad": " 第一分队 "}, "分队：去除了多余的空格"),
            ({"squad": "第一 分队"}, "分队：「第一 分队」按「第一分队」识别"),
            ({"category": "学 生"}, "人员类别：去除了多余的空格"),
        ],
    )
    def test_each_repair(self, cast, values, note):
        row = {"name": "张三丰", "id": make_id(1), "mobile": "13512345678"}
        row |= {"squad": "", "category": "", "joined": ""}
        row.update(values)
        sheet_row = [row["name"], row["id"], row["mobile"], row["squad"], "", row["category"]]
        sheet_row += ["", "", row["joined"]]
        (result,) = read_rows(xlsx([sheet_row]), cast.units["hongfeng"])
        assert result.ok, result.errors
        assert note in result.notes

    def test_clean_rows_have_no_notes(self, cast):
        rows = read_rows(xlsx(good_rows(3)), cast.units["hongfeng"])
        assert [row.notes for row in rows] == [[], [], []]

    def test_id_number_stored_as_an_exact_number(self, cast):
        """A program (not Excel) may store all 18 digits as a number: exact, so it is read."""
        number = id_born(date(1990, 1, 1), 11)
        assert number[-1] != "X"
        content = crafted_roster([(2, ["张三丰", int(number), "13512345678"])])
        (result,) = read_rows(content, cast.units["hongfeng"])
        assert result.ok and result.id_number == number
        assert "身份证号：以数字保存，已按文本读取" in result.notes

    def test_formula_replaced_by_its_value(self, cast):
        """As LibreOffice saves it: the formula and its cached result."""
        content = crafted_roster(
            [
                (2, ["张三丰", make_id(1), ('=TEXT(13512345678,"0")', "13512345678")]),
                (3, ["李四", make_id(2), ("=C2+1", None)]),
            ]
        )
        first, second = read_rows(content, cast.units["hongfeng"])
        assert first.ok and first.mobile == "13512345678"
        assert "手机号：单元格是公式，已取其计算结果" in first.notes
        assert any("手机号是公式但没有计算结果" in e for e in second.errors)

    def test_the_report_lists_them(self, cast, page_as, django_capture_on_commit_callbacks):
        from django.core.files.uploadedfile import SimpleUploadedFile

        row = ["张 三丰", make_id(1), 13512345678, "", "", "", "", "", 45352]
        client = page_as("captain")
        team = cast.units["hongfeng"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/members/roster/?team={team.pk}",
                {"file": SimpleUploadedFile("名册.xlsx", xlsx([row])), "consent": "on"},
            )
        sheet = load_workbook(io.BytesIO(client.get(response.url + "report.xlsx").content)).active
        assert sheet["E2"].value == "已自动修正"
        notes = sheet["E3"].value.split("；")
        assert notes == [
            "姓名：去除了空格",
            "手机号：以数字保存，已按文本读取",
            "入队日期：Excel 日期序号 45352 转为 2024-03-01",
        ]


class TestExportSaysWhoIsIn:
    def _export(self, client, unit, **extra):
        response = client.post("/members/roster/export.xlsx", {"unit": unit.pk, **extra})
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
        return rows[1][0], [row[6] for row in rows[3:]]

    def test_default_leaves_out_suspended_and_exited_and_says_so(self, cast, page_as):
        team = cast.units["hongfeng"]
        left = Member.objects.filter(
            unit__path__startswith=team.path, status__in=["suspended", "exited"]
        ).count()
        assert left
        note, statuses = self._export(page_as("captain"), team)
        assert "不含暂停、已退出的队员" in note and f"另有 {left} 人未列出" in note
        assert "暂停" not in statuses and "已退出" not in statuses
        note, statuses = self._export(page_as("captain"), team, include_left="1")
        assert "全部队员" in note and {"暂停", "已退出"} <= set(statuses)
        assert len(statuses) == Member.objects.filter(unit__path__startswith=team.path).count()
        events = AuditEvent.objects.filter(action="member.exported").order_by("id")
        assert [e.summary["statuses"] for e in events] == ["serving", "all"]

    def test_scoped_like_the_rest(self, cast, page_as):
        squad = cast.units["hongfeng_squad1"]
        _note, statuses = self._export(page_as("squad_leader"), squad, include_left="1")
        assert len(statuses) == Member.objects.filter(unit__path__startswith=squad.path).count()
        other = page_as("outside_captain").post(
            "/members/roster/export.xlsx", {"unit": squad.pk, "include_left": "1"}
        )
        assert other.status_code == 404

    def test_bounded_queries(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("captain")
        team = cast.units["hongfeng"]
        client.post("/members/roster/export.xlsx", {"unit": team.pk})
        with django_assert_max_num_queries(20):
            self._export(client, team, include_left="1")

    def test_the_page_offering_it_says_so(self, cast, page_as):
        page = page_as("captain").get(f"/members/?unit={cast.units['hongfeng'].pk}")
        text = page.content.decode()
        assert "不含暂停、已退出的队员" in text and 'name="include_left"' in text
