"""A page POST the service refuses as not the caller's to take answers 403 with the error page,
like the API — not a redirect with a flash message (issue 15, 2.8). The fix sits in the shared
helpers every page view uses to show a service's error (`core.forms.flash_domain_error` and
`add_domain_error`), so these cases span several apps."""

import pytest

from hongfeng.accounts import login
from hongfeng.audit.models import AuditEvent
from hongfeng.core.errors import DomainError
from hongfeng.members.models import Member


def _own_file(cast, key):
    return Member.objects.get(user=cast.users[key])


CASES = {
    # the review's two examples
    "volunteer records pre-job training": (
        "volunteer",
        lambda c: (f"/members/{_own_file(c, 'volunteer').pk}/pre-job-training/", {}),
        {"completed_on": "2026-11-01"},
    ),
    "system admin lifts a lockout": (
        "system_admin",
        lambda c: (f"/accounts/{c.users['captain'].pk}/unlock/", {}),
        {},
    ),
    # more of the same pattern across apps
    "security admin resets a password": (
        "security_admin",
        lambda c: (f"/accounts/{c.users['captain'].pk}/reset/", {}),
        {},
    ),
    "volunteer moves their own file": (
        "volunteer",
        lambda c: (
            f"/members/{_own_file(c, 'volunteer').pk}/move/",
            {"unit": c.units["hongfeng"].pk},
        ),
        {},
    ),
    "volunteer exports the roster": (
        "volunteer",
        lambda c: ("/members/roster/export.xlsx", {"unit": c.units["hongfeng_group1"].pk}),
        {},
    ),
    "captain grants a role to himself (a form)": (
        "captain",
        lambda c: (
            f"/roles/grant/?unit={c.units['hongfeng_group1'].pk}",
            {"mobile": c.users["captain"].mobile, "name": "", "role": "volunteer"},
        ),
        {},
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_forbidden_post_is_403(cast, page_as, case):
    who, target, extra = CASES[case]
    if "lockout" in case:
        for _ in range(5):
            with pytest.raises(DomainError):
                login.authenticate_mobile(mobile=cast.users["captain"].mobile, password="x")
    path, data = target(cast)
    before = AuditEvent.objects.count()
    response = page_as(who).post(path, {**data, **extra})
    assert response.status_code == 403, (case, response.status_code)
    text = response.content.decode()
    assert "无权操作" in text  # the error page, with the service's own reason
    assert AuditEvent.objects.count() == before  # nothing happened


def test_other_refusals_still_flash(cast, page_as):
    """A refusal that is about the input, not the permission, stays a message on the page."""
    captain = cast.users["captain"]
    response = page_as("system_admin").post(f"/accounts/{captain.pk}/disable/", {"reason": ""})
    assert response.status_code == 302
    page = page_as("system_admin").get(response.url)
    assert "请填写停用原因" in page.content.decode()
