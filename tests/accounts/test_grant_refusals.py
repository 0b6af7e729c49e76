"""Granting a role by mobile number tells nothing about numbers the granter does not manage
(issue 15, 2.4): one refusal — same status, code and message — whether the number is not
registered, belongs to someone else, holds a clashing role or is disabled. For accounts the
granter manages, the precise errors stay."""

import json
import re

import pytest
from django.utils import timezone

from hongfeng.accounts import services
from hongfeng.accounts.models import RoleAssignment, User
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import DomainError


def _grant(api, cast, mobile, name, role="volunteer", unit="hongfeng_group2"):
    return api.post(
        "/role-assignments",
        {"mobile": mobile, "name": name, "role": role, "unit_id": cast.units[unit].pk},
    )


def _state():
    return User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count()


def test_one_refusal_for_every_unmanaged_number(cast, api_as):
    outsider = cast.users["outside_captain"]
    sysadmin = cast.users["system_admin"]
    disabled = cast.users["sibling_captain"]
    User.objects.filter(pk=disabled.pk).update(is_active=False, disabled_at=timezone.now())
    cases = {
        "unregistered, no name": ("13612345670", ""),
        "someone else's, wrong name": (outsider.mobile, "随便写"),
        "someone else's, no name": (outsider.mobile, ""),
        "a 三权 account, right name": (sysadmin.mobile, sysadmin.name),
        "a disabled account, right name": (disabled.mobile, disabled.name),
    }
    api = api_as("captain")
    before = _state()
    answers = {}
    for label, (mobile, name) in cases.items():
        response = _grant(api, cast, mobile, name)
        answers[label] = (response.status_code, response.content)
    assert len(set(answers.values())) == 1, answers
    status, content = answers["a 三权 account, right name"]
    body = json.loads(content)
    assert status == 400 and body["code"] == "not_grantable" and body["field"] == "mobile"
    for person in (outsider, sysadmin, disabled):
        assert person.name not in body["message"]
    assert _state() == before  # nothing created, nothing audited


def test_the_page_shows_the_same_refusal(cast, page_as):
    client = page_as("captain")
    unit = cast.units["hongfeng_group2"]
    texts = set()
    for mobile, name in (
        ("13612345670", ""),
        (cast.users["system_admin"].mobile, cast.users["system_admin"].name),
    ):
        response = client.post(
            f"/roles/grant/?unit={unit.pk}", {"mobile": mobile, "name": name, "role": "volunteer"}
        )
        assert response.status_code == 200
        errors = re.findall(r'class="invalid-feedback[^>]*>(.*?)</div>', response.content.decode())
        assert len(errors) == 1 and "无法按此手机号授权" in errors[0]
        texts.add(errors[0])
    assert len(texts) == 1


def test_unregistered_with_a_name_opens_an_account(cast, api_as):
    response = _grant(api_as("captain"), cast, "13612345670", "王五")
    assert response.status_code == 201 and response.json()["account_created"] is True


def test_right_name_of_an_unmanaged_account_still_grants(cast, api_as):
    """People move between counties: knowing number and name is enough (security.md)."""
    outsider = cast.users["outside_captain"]
    response = _grant(api_as("captain"), cast, outsider.mobile, outsider.name)
    assert response.status_code == 201 and response.json()["account_created"] is False


@pytest.mark.parametrize(
    ("actor", "person", "role", "unit", "status", "code"),
    [
        # the security admin manages every account: it learns the precise reason
        ("security_admin", "system_admin", "volunteer", "hongfeng", 409, "three_powers_conflict"),
        # a captain's own volunteer
        ("captain", "volunteer", "volunteer", "hongfeng_group1", 409, "duplicate_role"),
    ],
)
def test_precise_errors_for_managed_accounts(cast, api_as, actor, person, role, unit, status, code):
    user = cast.users[person]
    response = _grant(api_as(actor), cast, user.mobile, "", role=role, unit=unit)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_managed_disabled_account_is_named_as_such(cast):
    volunteer = cast.users["volunteer"]
    User.objects.filter(pk=volunteer.pk).update(is_active=False)
    with pytest.raises(DomainError) as exc:
        services.grant_role_by_mobile(
            actor=cast.users["captain"],
            mobile=volunteer.mobile,
            name="",
            role="group_leader",
            unit=cast.units["hongfeng_group2"],
        )
    assert exc.value.code == "account_disabled"


def test_unit_checks_come_first_and_are_precise(cast, api_as):
    """What depends only on the role and the unit is answered the same for every number."""
    api = api_as("county_admin")
    for mobile in ("13612345670", cast.users["outside_captain"].mobile):
        response = _grant(api, cast, mobile, "", role="captain", unit="hongfeng")
        assert (response.status_code, response.json()["code"]) == (409, "captain_exists")
