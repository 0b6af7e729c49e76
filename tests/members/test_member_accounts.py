"""A member file and the account behind it: registration never attaches a file to someone
else's account, a rejoin never hands the old account to another person, a keeper cannot change
their own status, a suspension ends the roles and a resumption gives back the volunteer role,
and nobody under the minimum age is registered."""

import pytest
from django.utils import timezone

from hongfeng.accounts.models import RoleAssignment
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.idnumber import check_character
from hongfeng.members import services
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Member


def _zhangsan():
    return Member.objects.get(name="张三")


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
