"""Account pages: roles granted and revoked from the pages (the code goes by text message,
never shown), accounts disabled, reset and unlocked by the 三权 operators, 我的 with its tokens,
the login page, and accounts listed in pinyin order."""

import re
from importlib import import_module

import pytest
from django.apps import apps
from pypinyin import lazy_pinyin

from hongfeng.accounts.models import RoleAssignment, User
from tests.conftest import code_in


def _text(response) -> str:
    return response.content.decode()


class TestRolePages:
    def test_roles_list_scoped(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("captain")
        with django_assert_max_num_queries(20):
            text = _text(client.get("/roles/?q=张三"))
        assert "张三" in text and "139****0033" in text
        assert "13900000033" not in text
        captains = _text(client.get("/roles/?role=captain"))
        assert "楼红枫" in captains and "孙湖滨" not in captains  # another city's captain

    def test_grant_creates_account_and_sends_activation_code(
        self, cast, page_as, sms, django_capture_on_commit_callbacks
    ):
        """2.2: the captain is told where the code went, never a credential."""
        client = page_as("captain")
        group = cast.units["hongfeng_group2"]
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                f"/roles/grant/?unit={group.pk}",
                {"mobile": "13612345678", "name": "王五", "role": "volunteer"},
                follow=True,
            )
        assert response.status_code == 200
        text = _text(response)
        assert "激活码已通过短信发送至 136****5678" in text
        assert code_in(sms, "13612345678") not in text
        user = User.objects.get(mobile="13612345678")
        assert not user.has_usable_password()
        assert RoleAssignment.objects.get(user=user).unit == group

    def test_grant_errors(self, cast, page_as):
        client = page_as("captain")
        group = cast.units["hongfeng_group2"]
        response = client.post(
            f"/roles/grant/?unit={group.pk}",
            {"mobile": "1361234", "name": "王五", "role": "volunteer"},
        )
        assert "请输入正确的11位手机号码" in _text(response)
        assert (
            page_as("captain").get(f"/roles/grant/?unit={cast.units['xihu_team'].pk}").status_code
            == 404
        )
        own_group = cast.units["hongfeng_group1"]
        assert page_as("volunteer").get(f"/roles/grant/?unit={own_group.pk}").status_code == 403
        assert page_as("volunteer").get(f"/roles/grant/?unit={group.pk}").status_code == 404

    def test_revoke_page(self, cast, page_as):
        assignment = RoleAssignment.objects.get(user=cast.users["volunteer"])
        client = page_as("captain")
        response = client.post(f"/roles/{assignment.pk}/revoke/", {"reason": ""})
        assert response.status_code == 200
        response = client.post(f"/roles/{assignment.pk}/revoke/", {"reason": "离队"})
        assert response.status_code == 302
        assignment.refresh_from_db()
        assert not assignment.is_active

    def test_volunteer_has_no_roles_page(self, cast, page_as):
        assert page_as("volunteer").get("/roles/").status_code == 403


class TestAccountPages:
    def test_sysadmin_disables_and_resets(
        self, cast, page_as, sms, django_capture_on_commit_callbacks
    ):
        client = page_as("system_admin")
        captain = cast.users["captain"]
        assert "楼红枫" in _text(client.get("/accounts/?q=0030"))
        response = client.post(f"/accounts/{captain.pk}/disable/", {"reason": "违纪"})
        assert response.status_code == 302
        assert not User.objects.get(pk=captain.pk).is_active
        client.post(f"/accounts/{captain.pk}/enable/")
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/accounts/{captain.pk}/reset/", follow=True)
        text = _text(response)
        assert "原密码和所有登录已失效" in text and "139****0030" in text
        assert "待本人激活" in text
        assert code_in(sms, captain.mobile) not in text
        assert not User.objects.get(pk=captain.pk).has_usable_password()

    def test_disable_without_reason_is_refused(self, cast, page_as):
        client = page_as("system_admin")
        captain = cast.users["captain"]
        response = client.post(f"/accounts/{captain.pk}/disable/", {"reason": ""}, follow=True)
        assert "请填写停用原因" in _text(response)
        assert User.objects.get(pk=captain.pk).is_active

    def test_security_admin_sees_locked(self, cast, page_as):
        from hongfeng.accounts.login import authenticate_mobile
        from hongfeng.core.errors import DomainError

        for _ in range(5):
            with pytest.raises(DomainError):
                authenticate_mobile(mobile="13900000031", password="nope")
        client = page_as("security_admin")
        text = _text(client.get("/accounts/?locked=1"))
        assert "何一队" in text and "楼红枫" not in text
        leader = cast.users["squad_leader"]
        assert "解除锁定" in _text(client.get(f"/accounts/{leader.pk}/"))
        client.post(f"/accounts/{leader.pk}/unlock/")
        assert "何一队" not in _text(client.get("/accounts/?locked=1"))

    @pytest.mark.parametrize("who", ["captain", "auditor", "county_admin"])
    def test_others_have_no_account_management(self, cast, page_as, who):
        assert page_as(who).get("/accounts/").status_code == 403


class TestMe:
    def test_me_shows_own_mobile_and_tokens(self, cast, page_as):
        from hongfeng.accounts.services import issue_api_token

        issued = issue_api_token(user=cast.users["volunteer"], label="我的手机")
        client = page_as("volunteer")
        text = _text(client.get("/me/"))
        assert "13900000033" in text and "我的手机" in text
        client.post(f"/me/tokens/{issued.record.pk}/revoke/")
        issued.record.refresh_from_db()
        assert issued.record.revoked_at is not None

    def test_cannot_revoke_someone_elses_token(self, cast, page_as):
        from hongfeng.accounts.services import issue_api_token

        issued = issue_api_token(user=cast.users["captain"])
        response = page_as("volunteer").post(f"/me/tokens/{issued.record.pk}/revoke/")
        assert response.status_code == 404


def test_login_page_and_logout(cast, client):
    assert client.get("/login/").status_code == 200
    response = client.post(
        "/login/",
        {"mobile": "13900000033", "password": "Hongfeng@2026", "next": "https://evil.example/"},
    )
    assert response.url == "/"
    response = client.post("/logout/")
    assert response.url == "/login/"
    assert client.get("/").status_code == 302


def test_wrong_password_keeps_mobile(cast, client):
    response = client.post("/login/", {"mobile": "13900000033", "password": "wrong"})
    text = _text(response)
    assert "手机号或密码不正确。" in text
    assert 'value="13900000033"' in text


class TestAccountsInPinyinOrder:
    def test_list(self, cast, page_as):
        text = _text(page_as("system_admin").get("/accounts/"))
        names = re.findall(r'<a href="/accounts/\d+/">([^<]+)</a>', text)
        assert len(names) > 10
        assert names == sorted(names, key=lambda n: "".join(lazy_pinyin(n)))

    def test_new_and_imported_accounts_carry_it(self, cast):
        assert User.objects.get(mobile="13900000033").name_pinyin == "zhangsan"
        assert not User.objects.filter(name_pinyin="").exists()

    def test_migration_fills_existing_accounts(self, cast):
        User.objects.update(name_pinyin="")
        migration = import_module("hongfeng.accounts.migrations.0004_user_name_pinyin")
        migration.fill_pinyin(apps, None)
        assert User.objects.get(mobile="13900000033").name_pinyin == "zhangsan"
        assert not User.objects.filter(name_pinyin="").exists()
