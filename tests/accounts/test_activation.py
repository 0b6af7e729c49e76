"""Account activation with a code sent to the holder's own phone (issue 15, 2.2; security.md):
the 三权 operators and the leaders who open accounts never see a working credential."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from hongfeng.accounts import activation, services
from hongfeng.accounts.models import ActivationCode, ApiToken, User
from hongfeng.audit.models import AuditEvent
from hongfeng.core.demo import DEMO_PASSWORD
from hongfeng.core.errors import DomainError
from hongfeng.notices.models import Notice
from tests.conftest import ApiClient, code_in

NEW_MOBILE = "13712345678"
NEW_PASSWORD = "Mine#Own2026"


def _grant_new(cast, api_as, mobile=NEW_MOBILE):
    return api_as("captain").post(
        "/role-assignments",
        {
            "mobile": mobile,
            "name": "新队员",
            "role": "volunteer",
            "unit_id": cast.units["hongfeng_group2"].pk,
        },
    )


def _activate(mobile, code, password=NEW_PASSWORD, client=None):
    return (client or ApiClient()).post(
        "/auth/activate", {"mobile": mobile, "code": code, "new_password": password}
    )


def _logs_in(mobile, password) -> bool:
    response = ApiClient().post("/auth/token", {"mobile": mobile, "password": password})
    return response.status_code == 201


class TestNewAccount:
    def test_grant_sends_a_code_and_the_holder_activates(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = _grant_new(cast, api_as)
        assert response.status_code == 201
        body = response.json()
        assert body["account_created"] is True
        assert body["activation"]["sent_to"] == "137****5678"
        assert "initial_password" not in body
        code = code_in(sms, NEW_MOBILE)
        assert code not in response.content.decode()

        answer = _activate(NEW_MOBILE, code)
        assert answer.status_code == 200, answer.content
        assert answer.json() == {"message": "账号已激活，请用新密码登录。"}
        assert _logs_in(NEW_MOBILE, NEW_PASSWORD)
        # single use
        assert _activate(NEW_MOBILE, code, "Other#Pass2026").status_code == 400
        user = User.objects.get(mobile=NEW_MOBILE)
        actions = set(
            AuditEvent.objects.filter(target_id=str(user.pk)).values_list("action", flat=True)
        )
        assert {"account.activation_sent", "account.activated"} <= actions
        assert "account.activation_failed" in actions  # the second use

    def test_code_is_stored_only_as_a_keyed_digest(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        code = code_in(sms, NEW_MOBILE)
        record = ActivationCode.objects.get(user__mobile=NEW_MOBILE)
        assert code not in record.digest
        notice = Notice.objects.get(recipient=record.user, kind=activation.NOTICE_KIND)
        assert code not in notice.body and "********" in notice.body
        assert notice.status == "sent"
        # nowhere in the database: every text column of the tables written
        for table in ("accounts_activationcode", "notices_notice", "audit_auditevent"):
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 — fixed table names
                for row in cursor.fetchall():
                    assert not any(code in str(value) for value in row), table

    def test_expired_code_is_refused(self, cast, api_as, sms, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        code = code_in(sms, NEW_MOBILE)
        later = timezone.now() + timedelta(hours=24, seconds=1)
        with time_machine.travel(later, tick=False):
            response = _activate(NEW_MOBILE, code)
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_activation_code"
        assert not User.objects.get(mobile=NEW_MOBILE).has_usable_password()

    def test_wrong_codes_spend_it(self, cast, api_as, sms, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        code = code_in(sms, NEW_MOBILE)
        wrong = f"{(int(code) + 1) % 10**8:08d}"
        for _ in range(5):
            response = _activate(NEW_MOBILE, wrong)
            assert response.json()["code"] == "invalid_activation_code"
        assert _activate(NEW_MOBILE, code).status_code == 400  # spent after five wrong tries
        record = ActivationCode.objects.get(user__mobile=NEW_MOBILE)
        assert record.attempts == 5 and record.void_at is not None and record.used_at is None
        spent = AuditEvent.objects.filter(action="account.activation_failed", summary__spent=True)
        assert spent.count() == 1

    def test_password_rules_apply_and_do_not_spend_the_code(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        code = code_in(sms, NEW_MOBILE)
        response = _activate(NEW_MOBILE, code, "weakpass")
        assert response.status_code == 400 and response.json()["code"] == "weak_password"
        # the same answer with a wrong code: the password check tells nothing about the code
        wrong = _activate(NEW_MOBILE, "00000000" if code != "00000000" else "11111111", "weak")
        assert wrong.json()["code"] == "weak_password"
        assert _activate(NEW_MOBILE, code).status_code == 200

    def test_a_new_code_replaces_the_old(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        first = code_in(sms, NEW_MOBILE)
        later = timezone.now() + timedelta(minutes=2)
        with time_machine.travel(later, tick=False):
            with django_capture_on_commit_callbacks(execute=True):
                ApiClient().post("/auth/activation-code", {"mobile": NEW_MOBILE})
            second = code_in(sms, NEW_MOBILE)
            assert len(sms) == 2
            assert _activate(NEW_MOBILE, first).status_code == 400
            assert _activate(NEW_MOBILE, second).status_code == 200


class TestReset:
    def test_reset_ends_the_old_password_and_sessions(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        captain = cast.users["captain"]
        token = api_as("captain")
        with django_capture_on_commit_callbacks(execute=True):
            response = api_as("system_admin").post(f"/accounts/{captain.pk}/reset-password")
        assert response.status_code == 200
        assert response.json()["activation"]["sent_to"] == "139****0030"
        assert not _logs_in(captain.mobile, DEMO_PASSWORD)
        assert token.get("/me").status_code == 401
        assert not ApiToken.objects.filter(user=captain, revoked_at__isnull=True).exists()
        assert _activate(captain.mobile, code_in(sms, captain.mobile)).status_code == 200
        assert _logs_in(captain.mobile, NEW_PASSWORD)

    def test_activation_page_logs_the_holder_in(
        self, cast, sms, django_capture_on_commit_callbacks
    ):
        captain = cast.users["captain"]
        with django_capture_on_commit_callbacks(execute=True):
            services.reset_password(actor=cast.users["system_admin"], user=captain)
        client = Client()
        assert "激活账号" in client.get("/login/").content.decode()
        page = client.get("/activate/")
        assert page.status_code == 200 and "短信激活码" in page.content.decode()
        form = {
            "mobile": captain.mobile,
            "code": code_in(sms, captain.mobile),
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        }
        response = client.post("/activate/", form)
        assert response.status_code == 302 and response.url == "/"
        assert client.get("/").status_code == 200
        again = Client().post("/activate/", form)
        assert "激活码不正确或已失效" in again.content.decode()

    def test_activation_page_errors_keep_the_form(self, cast):
        response = Client().post(
            "/activate/",
            {
                "mobile": "13900000030",
                "code": "12345678",
                "new_password": NEW_PASSWORD,
                "new_password_again": "Different#1",
            },
        )
        text = response.content.decode()
        assert "两次输入的密码不一致" in text and 'value="13900000030"' in text


class TestRequestCode:
    ANSWER = activation.REQUESTED

    def _ask(self, mobile, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            return ApiClient().post("/auth/activation-code", {"mobile": mobile})

    def test_same_answer_for_every_number(self, cast, sms, django_capture_on_commit_callbacks):
        """Registered without a password, registered with one, unknown: one answer (2.4's rule
        for the public side), and a code only for the first."""
        holder = User.objects.create_user(mobile="13611112222", name="导入队员", password=None)
        answers = {
            mobile: self._ask(mobile, django_capture_on_commit_callbacks)
            for mobile in (holder.mobile, "13900000030", "13611113333")
        }
        assert {(r.status_code, r.content) for r in answers.values()} == {
            (202, answers[holder.mobile].content)
        }
        assert answers[holder.mobile].json() == {"message": self.ANSWER}
        assert [to for to, _ in sms] == [holder.mobile]
        # the resend interval: asking again at once sends nothing, with the same answer
        again = self._ask(holder.mobile, django_capture_on_commit_callbacks)
        assert again.status_code == 202 and len(sms) == 1
        assert _activate(holder.mobile, code_in(sms, holder.mobile)).status_code == 200
        assert AuditEvent.objects.filter(action="account.activation_requested").count() == 3

    def test_registered_member_activates_on_the_page(
        self, cast, api_as, sms, django_capture_on_commit_callbacks
    ):
        """实名登记 opens an account without a password; its holder gets in by asking for a
        code on the 激活账号 page (the roster import's accounts likewise)."""
        response = api_as("captain").post(
            "/members",
            {
                "unit_id": cast.units["hongfeng_group3"].pk,
                "name": "李四",
                "id_number": "11010519491231002X",
                "mobile": "13612340001",
                "consent": True,
            },
        )
        assert response.status_code == 201
        assert "password" not in response.content.decode().lower()
        client = Client()
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post("/activate/code/", {"mobile": "13612340001"}, follow=True)
        assert "激活码已通过短信发送到该手机" in answer.content.decode()
        assert 'value="13612340001"' in answer.content.decode()  # kept in the session
        form = {
            "mobile": "13612340001",
            "code": code_in(sms, "13612340001"),
            "new_password": NEW_PASSWORD,
            "new_password_again": NEW_PASSWORD,
        }
        assert client.post("/activate/", form).status_code == 302
        assert client.get("/").status_code == 200


class TestLogChannel:
    @pytest.mark.parametrize(("env", "shown"), [("development", True), ("production", False)])
    def test_code_masked_in_the_log_except_in_development(
        self, cast, api_as, settings, caplog, django_capture_on_commit_callbacks, env, shown
    ):
        settings.HONGFENG_ENV = env
        caplog.set_level(logging.INFO, logger="hongfeng.notices")
        with django_capture_on_commit_callbacks(execute=True):
            _grant_new(cast, api_as)
        lines = [r.getMessage() for r in caplog.records if "激活码" in r.getMessage()]
        assert len(lines) == 1
        code = re.search(r"激活码：(\S+?)，", lines[0]).group(1)
        assert code.isdigit() is shown and len(code) == 8
        record = ActivationCode.objects.get(user__mobile=NEW_MOBILE)
        if shown:
            assert constant_time_compare(record.digest, activation._digest(record.user_id, code))


def _candidates(text: str) -> set[str]:
    """Every token in a response that could be a password or a code: runs of printable ASCII
    without spaces or quotes, and every 8-digit window of a digit run."""
    tokens = set(re.findall(r"[!-~]{6,}", re.sub(r"[\"'<>=]", " ", text)))
    for run in re.findall(r"\d{8,}", text):
        tokens |= {run[i : i + 8] for i in range(len(run) - 7)}
    return tokens


def _works(user: User, token: str) -> bool:
    """Whether `token` logs in as `user`: as the password, or as an open activation code."""
    user.refresh_from_db()
    if user.check_password(token):
        return True
    now = timezone.now()
    return any(
        record.is_open(now)
        and constant_time_compare(record.digest, activation._digest(user.pk, token))
        for record in ActivationCode.objects.filter(user=user)
    )


def test_no_operator_response_holds_a_working_credential(
    cast, api_as, page_as, sms, django_capture_on_commit_callbacks
):
    """2.2: scan every answer the operator sees — the reset and the grant with a new account,
    through the API and the pages, and the pages they lead to — for any token that, tried as
    a password or as the activation code, works. The codes that were sent do work (so the scan
    could find them)."""
    seen: list[tuple[User, str]] = []
    captain = cast.users["captain"]
    with django_capture_on_commit_callbacks(execute=True):
        seen.append(
            (captain, api_as("system_admin").post(f"/accounts/{captain.pk}/reset-password"))
        )
        seen.append((None, _grant_new(cast, api_as)))
        admin = page_as("system_admin")
        leader = cast.users["squad_leader"]
        seen.append((leader, admin.post(f"/accounts/{leader.pk}/reset/", follow=True)))
        seen.append((leader, admin.get(f"/accounts/{leader.pk}/")))
        unit = cast.units["hongfeng_group1"]
        desk = Client()
        desk.force_login(cast.users["county_admin"])
        seen.append(
            (
                None,
                desk.post(
                    f"/roles/grant/?unit={unit.pk}",
                    {"mobile": "13712340000", "name": "王五", "role": "volunteer"},
                    follow=True,
                ),
            )
        )
        seen.append((None, desk.get(f"/roles/?unit={unit.pk}")))
    new_users = list(User.objects.filter(mobile__in=[NEW_MOBILE, "13712340000"]))
    assert len(new_users) == 2
    for user, response in seen:
        assert response.status_code in (200, 201), response.content[:300]
        text = response.content.decode()
        for holder in [user] if user is not None else new_users:
            found = [t for t in _candidates(text) if _works(holder, t)]
            assert found == [], (holder.name, response.request["PATH_INFO"])
    for holder in [captain, leader, *new_users]:
        assert _works(holder, code_in(sms, holder.mobile))


def test_disabled_or_password_holding_accounts_get_no_code(cast, sms):
    services.disable_account(
        actor=cast.users["system_admin"], user=cast.users["group_leader"], reason="离队"
    )
    for user in (cast.users["group_leader"], cast.users["volunteer"]):
        assert activation.request_activation_code(mobile=user.mobile) == activation.REQUESTED
    assert not ActivationCode.objects.exists()
    with pytest.raises(DomainError) as exc:
        activation.activate_account(
            mobile=cast.users["volunteer"].mobile, code="12345678", new_password=NEW_PASSWORD
        )
    assert exc.value.code == "invalid_activation_code"
