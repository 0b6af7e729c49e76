"""Role assignments and accounts through the API: a grant to a registered mobile reuses the
account, 三权 roles are never granted over the API nor combined with a business role, grants
outside the caller's reach are unseen, lists stay bounded, and /me says who is calling."""

from hongfeng.accounts.models import RoleAssignment, User


class TestAccountsApi:
    def test_duplicate_mobile_new_account(self, cast, api_as):
        """Granting to a registered mobile reuses the account; it never creates a second."""
        before = User.objects.count()
        response = api_as("captain").post(
            "/role-assignments",
            {
                "mobile": "13900000033",
                "name": "冒名",
                "role": "volunteer",
                "unit_id": cast.units["hongfeng_group2"].pk,
            },
        )
        assert response.status_code == 201
        assert response.json()["account_created"] is False
        assert User.objects.count() == before

    def test_combining_three_powers_via_api(self, cast, api_as):
        """Three-powers roles are never granted over the API, and their holders never get a
        business role."""
        api = api_as("security_admin")
        response = api.post(
            "/role-assignments",
            {"user_id": cast.users["auditor"].pk, "role": "system_admin", "unit_id": None},
        )
        assert response.status_code == 422  # no platform-wide grants over the API at all
        response = api.post(
            "/role-assignments",
            {
                "user_id": cast.users["auditor"].pk,
                "role": "system_admin",
                "unit_id": cast.units["province"].pk,
            },
        )
        assert response.status_code == 403
        response = api.post(
            "/role-assignments",
            {
                "user_id": cast.users["auditor"].pk,
                "role": "volunteer",
                "unit_id": cast.units["hongfeng"].pk,
            },
        )
        assert response.status_code == 409
        assert response.json()["code"] == "three_powers_conflict"

    def test_grant_outside_scope(self, cast, api_as):
        before = RoleAssignment.objects.count()
        response = api_as("captain").post(
            "/role-assignments",
            {
                "mobile": "13612345678",
                "name": "越权",
                "role": "volunteer",
                "unit_id": cast.units["xihu_team"].pk,
            },
        )
        assert response.status_code == 404
        assert RoleAssignment.objects.count() == before
        assert not User.objects.filter(mobile="13612345678").exists()

    def test_role_assignments_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("security_admin")
        with django_assert_max_num_queries(6):
            response = api.get("/role-assignments", {"page_size": 100})
        assert response.json()["count"] == RoleAssignment.objects.active().count()

    def test_me(self, cast, api_as):
        body = api_as("station_officer").get("/me").json()
        assert body["mobile"] == "13900000021"
        assert [r["role"] for r in body["roles"]] == ["station_officer"]
        assert "orgs.view" in body["capabilities"]
