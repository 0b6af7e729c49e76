"""Regression tests for the members review: each once let personal data or an account slip."""

import io

import pytest
from django.utils import timezone

from hongfeng.accounts.models import RoleAssignment
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.idnumber import check_character
from hongfeng.members import importing, services
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import ImportStatus, Member


def _zhangsan():
    return Member.objects.get(name="张三")


def test_exact_number_search_needs_reveal(cast, api_as):
    """With the mask (3306…0038) and an exact-match search, guesses could be confirmed."""
    for q in (VOLUNTEER_ID_NUMBER, "13900000033"):
        names = [
            m["name"] for m in api_as("group_leader").get("/members", {"q": q}).json()["items"]
        ]
        assert names == []
        names = [m["name"] for m in api_as("captain").get("/members", {"q": q}).json()["items"]]
        assert names == ["张三"]


def test_birth_date_only_for_the_owner(cast, api_as):
    member = _zhangsan()
    assert api_as("captain").get(f"/members/{member.pk}").json()["birth_date"] is None
    assert api_as("volunteer").get("/members/me").json()["birth_date"] == "1990-03-15"


def test_rejoin_never_hands_over_the_old_account(cast):
    member = _zhangsan()
    services.change_status(
        actor=cast.users["captain"], member=member, to="exited", reason="外出务工"
    )
    with pytest.raises(Conflict) as exc:
        services.submit_application(
            team=cast.units["hongfeng"],
            preferred_unit=None,
            name="攻击者",
            id_number=VOLUNTEER_ID_NUMBER,
            mobile="13612345678",
            password="Attack#2026x",
            skills=[],
            motivation="",
            charter_version=1,
            charter_accepted=True,
            privacy_accepted=True,
        )
    assert exc.value.code == "identity_mismatch"


def test_keepers_cannot_change_their_own_status(cast):
    squad_leader = Member.objects.get(user=cast.users["squad_leader"])
    with pytest.raises(Forbidden):
        services.change_status(
            actor=cast.users["squad_leader"], member=squad_leader, to="active", reason="自己恢复"
        )


def test_suspension_ends_roles_and_resumption_restores_the_volunteer_role(cast):
    leader = Member.objects.get(user=cast.users["squad_leader"])
    services.change_status(
        actor=cast.users["captain"], member=leader, to="suspended", reason="调查期间暂停"
    )
    assert not RoleAssignment.objects.active().filter(user=leader.user).exists()
    services.change_status(
        actor=cast.users["captain"], member=leader, to="active", reason="调查结束"
    )
    assert list(
        RoleAssignment.objects.active().filter(user=leader.user).values_list("role", flat=True)
    ) == ["volunteer"]


@pytest.mark.parametrize(
    ("mobile", "name", "code"),
    [
        ("13900000001", "王志远", "three_powers_conflict"),  # the system administrator
        ("13900000010", "随便谁", "mobile_taken"),  # someone else's account
    ],
)
def test_registration_never_attaches_to_someone_elses_account(cast, mobile, name, code):
    with pytest.raises(Conflict) as exc:
        services.register_member(
            actor=cast.users["captain"],
            unit=cast.units["hongfeng"],
            name=name,
            id_number="11010519491231002X",
            mobile=mobile,
        )
    assert exc.value.code == code


def test_minimum_age(cast):
    """Fifteen today, whatever today is (born 2010 stopped being too young in 2026)."""
    today = timezone.localdate()
    born = today.replace(year=today.year - 15, day=min(today.day, 28))
    first17 = f"330681{born:%Y%m%d}001"
    with pytest.raises(DomainError) as exc:
        services.register_member(
            actor=cast.users["captain"],
            unit=cast.units["hongfeng"],
            name="小朋友",
            id_number=first17 + check_character(first17),
            mobile="13612345678",
        )
    assert exc.value.code == "too_young"


def test_edit_form_hides_private_fields_from_keepers_without_reveal(cast, page_as):
    member = _zhangsan()
    services.update_own_contact(
        user=cast.users["volunteer"],
        address="枫桥镇",
        emergency_contact="张母",
        emergency_mobile="13566667777",
    )
    page = page_as("squad_leader").get(f"/members/{member.pk}/edit/").content.decode()
    assert "13566667777" not in page and "健康声明" not in page
    assert "健康声明" in page_as("captain").get(f"/members/{member.pk}/edit/").content.decode()


def test_partial_update_keeps_what_the_editor_cannot_see(cast, api_as):
    member = _zhangsan()
    before = member.health_declaration
    services.update_own_contact(
        user=cast.users["volunteer"],
        address="枫桥镇",
        emergency_contact="张母",
        emergency_mobile="13566667777",
    )
    member.refresh_from_db()
    response = api_as("squad_leader").patch(
        f"/members/{member.pk}", {"version": member.version, "category": "student"}
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.category == "student"
    assert member.health_declaration == before and member.emergency_mobile == "13566667777"
    denied = api_as("squad_leader").patch(
        f"/members/{member.pk}", {"version": member.version, "health_declaration": "无"}
    )
    assert denied.status_code == 403


def test_corrupt_sheet_fails_instead_of_hanging(cast):
    import zipfile

    from tests.test_roster import good_rows, xlsx

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
    from openpyxl import Workbook

    from hongfeng.members.roster import read_rows
    from tests.test_roster import HEADERS, good_rows

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


def test_import_is_claimed_once(cast):
    from tests.test_roster import good_rows, xlsx

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
    from hongfeng.members.models import Consent
    from tests.test_roster import good_rows, xlsx

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
    from tests.test_roster import good_rows, xlsx

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
