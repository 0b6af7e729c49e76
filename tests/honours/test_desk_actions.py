"""The honours desk and 我的荣誉与证书: one page each (GET) and one URL and view per action
posted from it (issue 16, item 4). Each action does its one thing, shows the page again with
the error when refused, answers 405 to a GET, 403 to a user without the capability and 404
for a record out of sight."""

import re

import pytest

from hongfeng.audit.models import AuditEvent
from hongfeng.honours import services
from hongfeng.honours.models import Certificate, HonourGrant, HonourTitle, ThresholdKind
from hongfeng.members.models import Member

DESK = "/honours/desk/"
ACTIONS = [
    "/honours/desk/grant",
    "/honours/desk/statement",
    "/honours/desk/titles",
    "/honours/desk/grant-by-rule",
    "/honours/desk/grants/{grant}/certificate",
    "/honours/desk/certificates/{certificate}/revoke",
]


def _title(cast, name="见义勇为"):
    return services.create_title(
        actor=cast.users["county_admin"],
        association=cast.units["zhuji"],
        name=name,
        threshold_kind=ThresholdKind.MANUAL,
    )


def _volunteer(cast) -> Member:
    return Member.objects.get(user=cast.users["volunteer"])


def _grant(cast, title=None):
    return services.grant_honour(
        actor=cast.users["county_admin"],
        member=_volunteer(cast),
        title=title or _title(cast),
        reason="表现突出",
    )


def _paths(cast) -> list[str]:
    grant = _grant(cast)
    certificate = services.issue_honour_certificate(actor=cast.users["county_admin"], grant=grant)
    return [a.format(grant=grant.pk, certificate=certificate.pk) for a in ACTIONS]


def test_the_desk_posts_each_form_to_its_action(cast, page_as):
    _paths(cast)
    page = page_as("county_admin").get(DESK).text
    targets = set(re.findall(r'<form method="post" action="([^"]+)"', page))
    for action in ACTIONS:
        pattern = (
            re.escape(action).replace(r"\{grant\}", r"\d+").replace(r"\{certificate\}", r"\d+")
        )
        assert any(re.fullmatch(pattern, t) for t in targets), action
    assert 'name="action"' not in page


def test_each_action_is_post_only_and_for_desk_holders(cast, page_as):
    paths = _paths(cast)
    before = AuditEvent.objects.count()
    admin = page_as("county_admin")
    for path in [*paths]:
        assert admin.get(path).status_code == 405, path
    volunteer = page_as("volunteer")
    for path in paths:
        assert volunteer.post(path, {"reason": "误发"}).status_code == 403, path
    assert admin.post(DESK).status_code == 405
    assert AuditEvent.objects.count() == before


def test_grant(cast, page_as):
    title = _title(cast)
    member = _volunteer(cast)
    client = page_as("county_admin")
    body = {"member": member.pk, "title": title.pk, "reason": "抓获盗窃嫌疑人"}
    done = client.post("/honours/desk/grant", body)
    assert (done.status_code, done.headers["Location"]) == (302, DESK)
    assert HonourGrant.objects.filter(member=member, title=title).exists()
    assert "已授予" in client.get(DESK).text
    again = client.post("/honours/desk/grant", body)
    assert again.status_code == 200 and "该队员已获得这一荣誉称号。" in again.text
    missing = client.post("/honours/desk/grant", {**body, "reason": ""})
    assert missing.status_code == 200 and "这个字段是必填项" in missing.text
    assert HonourGrant.objects.filter(member=member, title=title).count() == 1


def test_statement(cast, page_as):
    member = _volunteer(cast)
    client = page_as("captain")
    body = {"member": member.pk, "start": "2026-01-01", "end": "2026-02-01"}
    assert client.post("/honours/desk/statement", body).status_code == 302
    assert Certificate.objects.filter(member=member, kind="service_hours").exists()
    wrong = client.post("/honours/desk/statement", {**body, "start": "2026-03-01"})
    assert wrong.status_code == 200 and "开始日期不能晚于结束日期" in wrong.text


def test_title_and_grant_by_rule(cast, page_as):
    client = page_as("county_admin")
    zhuji = cast.units["zhuji"]
    body = {
        "association": zhuji.pk,
        "name": "服务百时",
        "threshold_kind": ThresholdKind.HOURS,
        "threshold_value": "100",
    }
    assert client.post("/honours/desk/titles", body).status_code == 302
    assert HonourTitle.objects.filter(association=zhuji, name="服务百时").exists()
    again = client.post("/honours/desk/titles", body)
    assert again.status_code == 200 and 'action="/honours/desk/titles"' in again.text
    ran = client.post("/honours/desk/grant-by-rule", {"association": zhuji.pk})
    assert ran.status_code == 302
    assert "已按规则新授予" in client.get(DESK).text
    # a captain holds honours.grant but sets no rules: there is no association to pick
    captain = page_as("captain")
    assert captain.post("/honours/desk/grant-by-rule", {"association": zhuji.pk}).status_code == (
        403
    )


def test_certificate_and_revoke(cast, page_as):
    grant = _grant(cast)
    client = page_as("county_admin")
    issued = client.post(f"/honours/desk/grants/{grant.pk}/certificate")
    assert issued.status_code == 302
    certificate = Certificate.objects.get(grant=grant)
    path = f"/honours/desk/certificates/{certificate.pk}/revoke"
    refused = client.post(path, {"reason": ""})
    assert refused.status_code == 200 and "撤销原因" in refused.text
    assert client.post(path, {"reason": "误发"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked
    again = client.post(path, {"reason": "误发"})
    assert again.status_code == 200 and "该证书已撤销。" in again.text
    outsider = page_as("outside_captain")
    assert outsider.post(f"/honours/desk/grants/{grant.pk}/certificate").status_code == 404
    assert outsider.post(path, {"reason": "误发"}).status_code == 404


@pytest.mark.parametrize("who", ["county_admin", "volunteer"])
def test_pages_link_back_to_themselves_for_more_certificates(cast, page_as, who):
    """A page shown again by an action keeps its pagination on the page's own address."""
    grant = _grant(cast)
    for _ in range(21):
        services.issue_honour_certificate(actor=cast.users["county_admin"], grant=grant)
    client = page_as(who)
    if who == "volunteer":
        page = client.post("/honours/statement", {"start": "2026-03-01", "end": "2026-01-01"}).text
        assert 'href="/honours/?page=2"' in page
    else:
        page = client.post("/honours/desk/grant", {}).text
        assert 'href="/honours/desk/?page=2"' in page


def test_my_statement_and_honour_certificate(cast, page_as):
    grant = _grant(cast)
    client = page_as("volunteer")
    page = client.get("/honours/").text
    assert f'action="/honours/grants/{grant.pk}/certificate"' in page
    assert 'action="/honours/statement"' in page and 'name="action"' not in page
    done = client.post(f"/honours/grants/{grant.pk}/certificate")
    assert (done.status_code, done.headers["Location"]) == (302, "/honours/")
    assert Certificate.objects.filter(grant=grant).exists()
    assert "荣誉证书" in client.get("/honours/").text
    stated = client.post("/honours/statement", {"start": "2026-01-01", "end": "2026-02-01"})
    assert stated.status_code == 302
    other = services.grant_honour(
        actor=cast.users["county_admin"],
        member=Member.objects.get(user=cast.users["group_leader"]),
        title=grant.title,
        reason="表现突出",
    )
    refused = client.post(f"/honours/grants/{other.pk}/certificate")
    assert refused.status_code == 200 and "没有这项荣誉。" in refused.text
    assert client.get("/honours/statement").status_code == 405
    assert page_as("county_admin").post("/honours/statement", {}).status_code == 200
