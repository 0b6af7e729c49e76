"""Accounts, role grants, 三权分立, login lockout, session timeouts and API tokens (security.md,
targets T5 and T7)."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hongfeng.accounts import access, login, services
from hongfeng.accounts.models import (
    ActivationCode,
    ApiToken,
    LoginThrottle,
    Role,
    RoleAssignment,
    User,
)
from hongfeng.audit.models import AuditEvent
from hongfeng.core.demo import DEMO_PASSWORD
from hongfeng.core.errors import Conflict, DomainError, Forbidden

NEW_MOBILE = "13712345678"


def _grant(cast, actor, role, unit_key, mobile=NEW_MOBILE, name="新人"):
    unit = cast.units[unit_key] if unit_key else None
    return services.grant_role_by_mobile(
        actor=cast.users[actor], mobile=mobile, name=name, role=role, unit=unit
    )


class TestGrantScope:
    @pytest.mark.parametrize(
        ("actor", "role", "unit_key"),
        [
            ("county_admin", Role.CAPTAIN, "jiyang_team"),
            ("county_admin", Role.ASSOCIATION_ADMIN, "hongfeng"),  # kind does not fit
            ("captain", Role.SQUAD_LEADER, "hongfeng_squad1"),
            ("captain", Role.VOLUNTEER, "hongfeng_group2"),
            ("squad_leader", Role.GROUP_LEADER, "hongfeng_group1"),
            ("bureau_officer", Role.STATION_OFFICER, "jiyang_station"),
            ("security_admin", Role.VOLUNTEER, "hongfeng_group1"),
            ("province_admin", Role.ASSOCIATION_ADMIN, "shaoxing"),
        ],
    )
    def test_allowed_grants(self, cast, actor, role, unit_key):
        if (actor, unit_key) == ("county_admin", "hongfeng"):
            with pytest.raises(DomainError) as exc:
                _grant(cast, actor, role, unit_key)
            assert exc.value.code == "invalid_role_unit"
            return
        assignment, sent = _grant(cast, actor, role, unit_key)
        assert assignment.is_active
        # a new account: no password anyone knows, a code on its holder's phone (2.2)
        assert sent.mobile_masked == "137****5678"
        user = User.objects.get(mobile=NEW_MOBILE)
        assert not user.has_usable_password()
        assert ActivationCode.objects.filter(user=user, used_at__isnull=True).count() == 1
        for action in ("role.granted", "account.created", "account.activation_sent"):
            assert AuditEvent.objects.filter(action=action, target_id=str(user.pk)).exists()

    @pytest.mark.parametrize(
        ("actor", "role", "unit_key"),
        [
            ("county_admin", Role.VOLUNTEER, "xihu_team"),  # unrelated county
            ("county_admin", Role.ASSOCIATION_ADMIN, "zhuji"),  # own role at own unit
            ("county_admin", Role.ASSOCIATION_ADMIN, "shaoxing"),  # ancestor
            ("county_admin", Role.STATION_OFFICER, "fengqiao"),  # other branch
            ("captain", Role.CAPTAIN, "jiyang_team"),
            ("captain", Role.VOLUNTEER, "jiyang_team"),  # sibling team
            ("squad_leader", Role.VOLUNTEER, "hongfeng_group3"),  # sibling squad's group
            ("group_leader", Role.VOLUNTEER, "hongfeng_group1"),  # group leaders grant nothing
            ("volunteer", Role.VOLUNTEER, "hongfeng_group1"),
            ("station_officer", Role.VOLUNTEER, "hongfeng"),
            ("system_admin", Role.VOLUNTEER, "hongfeng"),  # grants are the security admin's
            ("auditor", Role.VOLUNTEER, "hongfeng"),
            ("bureau_officer", Role.BUREAU_OFFICER, "zhuji_bureau"),
            ("security_admin", Role.SECURITY_ADMIN, None),  # never replicated via the UI/API
            ("security_admin", Role.AUDITOR, None),  # three powers only at the console
            ("security_admin", Role.SYSTEM_ADMIN, "province"),
        ],
    )
    def test_refused_grants_change_nothing(self, cast, actor, role, unit_key):
        before = (User.objects.count(), RoleAssignment.objects.count(), AuditEvent.objects.count())
        with pytest.raises(Forbidden):
            _grant(cast, actor, role, unit_key)
        assert (
            User.objects.count(),
            RoleAssignment.objects.count(),
            AuditEvent.objects.count(),
        ) == before

    def test_three_powers_never_combine(self, cast):
        with pytest.raises(Conflict) as exc:
            services.bootstrap_three_powers_account(
                mobile="13900000001", name="王志远", password=None, role=Role.AUDITOR
            )
        assert exc.value.code == "three_powers_conflict"
        # nor with a business role, in either direction
        with pytest.raises(Conflict):
            services.grant_role(
                actor=cast.users["security_admin"],
                user=cast.users["system_admin"],
                role=Role.ASSOCIATION_ADMIN,
                unit=cast.units["province"],
            )
        with pytest.raises(Conflict):
            services.bootstrap_three_powers_account(
                mobile="13900000030", name="楼红枫", password=None, role=Role.AUDITOR
            )

    def test_out_of_scope_account_needs_its_name(self, cast):
        """A captain granting to a number registered elsewhere must know whose it is."""
        outsider = cast.users["outside_captain"]
        with pytest.raises(DomainError) as exc:
            _grant(
                cast,
                "captain",
                Role.VOLUNTEER,
                "hongfeng_group2",
                mobile=outsider.mobile,
                name="随便",
            )
        assert exc.value.code == "not_grantable"
        assert outsider.name not in exc.value.message
        assignment, _ = _grant(
            cast,
            "captain",
            Role.VOLUNTEER,
            "hongfeng_group2",
            mobile=outsider.mobile,
            name=outsider.name,
        )
        assert assignment.user == outsider

    def test_one_captain_per_team(self, cast):
        """5.2.4: exactly one 总队长 per team — enforced in the service and the database."""
        with pytest.raises(Conflict) as exc:
            _grant(cast, "county_admin", Role.CAPTAIN, "hongfeng")
        assert exc.value.code == "captain_exists"
        from django.db import IntegrityError, transaction

        with pytest.raises(IntegrityError), transaction.atomic():
            RoleAssignment.objects.create(
                user=cast.users["volunteer"], role=Role.CAPTAIN, unit=cast.units["hongfeng"]
            )

    def test_no_self_grant(self, cast):
        with pytest.raises(Forbidden):
            services.grant_role(
                actor=cast.users["county_admin"],
                user=cast.users["county_admin"],
                role=Role.VOLUNTEER,
                unit=cast.units["hongfeng"],
            )

    def test_duplicate_role(self, cast):
        with pytest.raises(Conflict):
            services.grant_role(
                actor=cast.users["captain"],
                user=cast.users["volunteer"],
                role=Role.VOLUNTEER,
                unit=cast.units["hongfeng_group1"],
            )

    def test_existing_account_is_reused_by_mobile(self, cast):
        assignment, password = _grant(
            cast,
            "county_admin",
            Role.VOLUNTEER,
            "jiyang_team",
            mobile=cast.users["volunteer"].mobile,
            name="",
        )
        assert password is None
        assert assignment.user == cast.users["volunteer"]

    def test_new_account_needs_a_name_and_a_valid_mobile(self, cast):
        with pytest.raises(DomainError) as exc:
            _grant(cast, "captain", Role.VOLUNTEER, "hongfeng", name="")
        assert exc.value.code == "not_grantable"  # the one answer for unmanaged numbers (2.4)
        with pytest.raises(DomainError) as exc:
            _grant(cast, "captain", Role.VOLUNTEER, "hongfeng", mobile="12345")
        assert exc.value.code == "invalid_mobile"
        assert not User.objects.filter(mobile=NEW_MOBILE).exists()

    def test_revoke_keeps_history(self, cast):
        assignment = RoleAssignment.objects.get(user=cast.users["volunteer"])
        services.revoke_role(actor=cast.users["captain"], assignment=assignment, reason="调岗")
        assignment.refresh_from_db()
        assert assignment.revoked_at is not None
        assert assignment.revoke_reason == "调岗"
        assert access.assignments(User.objects.get(pk=cast.users["volunteer"].pk)) == []
        with pytest.raises(DomainError):
            services.revoke_role(actor=cast.users["captain"], assignment=assignment, reason="再撤")

    def test_revoke_needs_reason_and_scope(self, cast):
        assignment = RoleAssignment.objects.get(user=cast.users["volunteer"])
        with pytest.raises(DomainError):
            services.revoke_role(actor=cast.users["captain"], assignment=assignment, reason=" ")
        with pytest.raises(Forbidden):
            services.revoke_role(
                actor=cast.users["outside_captain"], assignment=assignment, reason="越权"
            )


class TestLockout:
    """Five consecutive failures lock the source out of the number for fifteen minutes on every
    login path (tests/accounts/test_login_throttling.py: other sources, the account-wide lock,
    delays)."""

    def _fail(self, mobile="13900000030", n=1):
        for _ in range(n):
            with pytest.raises(DomainError):
                login.authenticate_mobile(mobile=mobile, password="wrong-password")

    def test_lockout_after_five_failures_then_release(self, cast):
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            self._fail(n=4)
            assert login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
            self._fail(n=4)  # success reset the count: four more are not yet a lock
            with pytest.raises(login.LockedOut):
                login.authenticate_mobile(mobile="13900000030", password="wrong")
            # locked: even the right password is refused
            with pytest.raises(login.LockedOut):
                login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
            clock.shift(timedelta(minutes=14, seconds=59))
            with pytest.raises(login.LockedOut):
                login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
            clock.shift(timedelta(seconds=2))
            assert login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
        assert AuditEvent.objects.filter(action="auth.locked_out").count() == 1
        # nine counted failures plus two attempts while locked, all audited
        assert AuditEvent.objects.filter(action="auth.login_failed").count() == 11
        assert (
            AuditEvent.objects.filter(action="auth.login_failed", summary__locked=True).count() == 2
        )

    def test_unknown_numbers_are_throttled_too(self, cast):
        self._fail(mobile=NEW_MOBILE, n=5)
        with pytest.raises(login.LockedOut):
            login.authenticate_mobile(mobile=NEW_MOBILE, password="x")
        event = AuditEvent.objects.filter(action="auth.locked_out").latest("id")
        assert NEW_MOBILE not in event.target_label  # masked

    def test_token_endpoint_and_login_page_share_the_counter(self, cast, client, anon_api):
        for _ in range(3):
            client.post("/login/", {"mobile": "13900000030", "password": "bad"})
        for _ in range(2):
            response = anon_api.post("/auth/token", {"mobile": "13900000030", "password": "bad"})
        assert response.status_code == 429
        assert response.json()["code"] == "locked_out"
        page = client.post("/login/", {"mobile": "13900000030", "password": DEMO_PASSWORD})
        assert "已锁定" in page.content.decode()

    def test_security_admin_unlocks(self, cast):
        self._fail(n=5)
        login.unlock_login(actor=cast.users["security_admin"], user=cast.users["captain"])
        assert login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
        with pytest.raises(Forbidden):
            login.unlock_login(actor=cast.users["system_admin"], user=cast.users["captain"])
        assert AuditEvent.objects.filter(action="auth.unlocked").count() == 1

    def test_disabled_account_cannot_log_in(self, cast):
        services.disable_account(
            actor=cast.users["system_admin"], user=cast.users["captain"], reason="离队"
        )
        with pytest.raises(DomainError) as exc:
            login.authenticate_mobile(mobile="13900000030", password=DEMO_PASSWORD)
        assert exc.value.code == "account_disabled"


class TestSessions:
    def _login(self, client, mobile):
        response = client.post("/login/", {"mobile": mobile, "password": DEMO_PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]

    def test_idle_timeout_30_minutes_for_volunteers(self, cast, client):
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            self._login(client, "13900000033")
            clock.shift(timedelta(minutes=29))
            assert client.get("/").status_code == 200
            clock.shift(timedelta(minutes=29))  # activity 29 min ago: still alive
            assert client.get("/").status_code == 200
            clock.shift(timedelta(minutes=31))
            response = client.get("/")
        assert response.status_code == 302
        assert response.url.startswith("/login/")
        assert AuditEvent.objects.filter(action="auth.session_expired").count() == 1

    def test_idle_timeout_15_minutes_for_privileged(self, cast, client):
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            self._login(client, "13900000012")  # county association admin
            clock.shift(timedelta(minutes=16))
            response = client.get("/")
        assert response.status_code == 302

    def test_absolute_timeout_12_hours(self, cast, client):
        start = timezone.now()
        with time_machine.travel(start, tick=False) as clock:
            self._login(client, "13900000033")
            for _ in range(25):  # busy all day, never idle
                clock.shift(timedelta(minutes=29))
                if client.get("/").status_code != 200:
                    break
        assert clock is not None
        response = client.get("/")
        assert response.status_code == 302

    def test_disabling_ends_sessions_and_tokens_at_once(self, cast, client, api_as):
        self._login(client, "13900000030")
        api = api_as("captain")
        assert client.get("/").status_code == 200
        assert api.get("/me").status_code == 200
        services.disable_account(
            actor=cast.users["system_admin"], user=cast.users["captain"], reason="违反纪律"
        )
        assert client.get("/").status_code == 302
        assert api.get("/me").status_code == 401
        assert not ApiToken.objects.filter(
            user=cast.users["captain"], revoked_at__isnull=True
        ).exists()

    def test_password_change_ends_other_sessions(self, cast, client):
        from django.test import Client

        other = Client()
        self._login(client, "13900000033")
        self._login(other, "13900000033")
        response = client.post(
            "/me/password/",
            {
                "old_password": DEMO_PASSWORD,
                "new_password": "NewPass#2026",
                "new_password_again": "NewPass#2026",
            },
        )
        assert response.status_code == 302
        assert client.get("/").status_code == 200  # this session survives
        assert other.get("/").status_code == 302  # the other one ended

    def test_must_change_password_is_still_enforced(self, cast, client):
        """Accounts flagged before activation codes existed must still change their password
        before anything else."""
        User.objects.filter(pk=cast.users["volunteer"].pk).update(must_change_password=True)
        response = client.post("/login/", {"mobile": "13900000033", "password": DEMO_PASSWORD})
        assert response.url == "/me/password/"
        assert client.get("/orgs/").url == "/me/password/"
        response = client.post(
            "/me/password/",
            {"old_password": DEMO_PASSWORD, "new_password": "weak", "new_password_again": "weak"},
        )
        assert response.status_code == 200
        assert "密码至少8位" in response.content.decode()
        response = client.post(
            "/me/password/",
            {
                "old_password": DEMO_PASSWORD,
                "new_password": "Better#Pass9",
                "new_password_again": "Better#Pass9",
            },
        )
        assert response.status_code == 302
        assert client.get("/orgs/").status_code == 200


class TestTokens:
    def test_issue_use_revoke(self, cast, anon_api):
        response = anon_api.post(
            "/auth/token", {"mobile": "13900000030", "password": DEMO_PASSWORD, "label": "手机"}
        )
        assert response.status_code == 201
        body = response.json()
        assert body["user"]["mobile_masked"] == "139****0030"
        token = body["token"]
        record = ApiToken.objects.get(prefix=token[:10])
        assert token not in (record.digest, record.prefix)  # only a digest is stored
        from django.test import Client

        bearer = Client(headers={"Authorization": f"Bearer {token}"})
        assert bearer.get("/api/v1/me").json()["mobile"] == "13900000030"
        assert bearer.delete("/api/v1/auth/token").status_code == 204
        assert bearer.get("/api/v1/me").status_code == 401

    def test_token_expires(self, cast):
        issued = services.issue_api_token(user=cast.users["captain"])
        assert services.find_api_token(issued.token) is not None
        with time_machine.travel(timezone.now() + timedelta(hours=12, minutes=1)):
            assert services.find_api_token(issued.token) is None

    @pytest.mark.parametrize("token", ["", "hf_nonsense", "Bearer", "x" * 500])
    def test_garbage_tokens(self, cast, token):
        from django.test import Client

        response = Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    def test_wrong_password_on_token_endpoint(self, cast, anon_api):
        response = anon_api.post("/auth/token", {"mobile": "13900000030", "password": "nope"})
        assert response.status_code == 401
        assert response.json() == {"code": "invalid_credentials", "message": "手机号或密码不正确。"}


def test_login_throttle_rows_are_per_number(cast):
    with pytest.raises(DomainError):
        login.authenticate_mobile(mobile="139 0000 0030", password="bad")
    assert LoginThrottle.objects.get(mobile="13900000030", source="").failures == 1
