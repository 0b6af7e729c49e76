"""The HTTP API as every app shares it: one error format (malformed JSON, invalid input naming
the field, unknown ids, no credentials, a stale version), the OpenAPI document and its docs page,
pagination with bounded queries, and hostile values refused at the edge (target T1)."""

import pytest

from hongfeng.orgs.models import Unit


class TestErrors:
    def test_malformed_json_changes_nothing(self, cast, api_as):
        api = api_as("county_admin")
        before = Unit.objects.count()
        response = api.client.post("/api/v1/units", "{not json", content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"code": "malformed_json", "message": "请求体不是合法的 JSON。"}
        assert Unit.objects.count() == before

    def test_validation_error_names_the_field(self, cast, api_as):
        response = api_as("county_admin").post(
            "/units", {"parent_id": 1, "kind": "castle", "name": "x"}
        )
        assert response.status_code == 422
        body = response.json()
        assert body["code"] == "invalid_input"
        assert body["field"] == "kind"
        assert "kind" in body["message"]

    @pytest.mark.parametrize(
        "path", ["/units/999999", "/units/0", "/role-assignments/424242", "/accounts/999999"]
    )
    def test_unknown_ids_are_404(self, cast, api_as, path):
        response = api_as("system_admin").get(path)
        assert response.status_code in (404, 422)
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"

    def test_non_numeric_id(self, cast, api_as):
        response = api_as("system_admin").get("/units/abc")
        assert response.status_code in (404, 422)

    def test_unauthenticated(self, anon_api):
        response = anon_api.get("/units")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    def test_stale_version_is_409(self, cast, api_as):
        squad = cast.units["hongfeng_squad1"]
        api = api_as("captain")
        assert api.patch(f"/units/{squad.pk}", {"name": "新一队", "version": 1}).status_code == 200
        response = api.patch(f"/units/{squad.pk}", {"name": "又一队", "version": 1})
        assert response.status_code == 409
        assert response.json()["code"] == "stale_version"
        assert Unit.objects.get(pk=squad.pk).name == "新一队"


class TestDocs:
    def test_openapi_and_docs(self, client, db):
        schema = client.get("/api/v1/openapi.json")
        assert schema.status_code == 200
        paths = schema.json()["paths"]
        for path in (
            "/api/v1/auth/token",
            "/api/v1/units",
            "/api/v1/role-assignments",
            "/api/v1/audit-events",
            "/api/v1/teams/onboard",
        ):
            assert path in paths
        docs = client.get("/api/v1/docs")
        assert docs.status_code == 200
        assert b"swagger" in docs.content.lower()


class TestLists:
    def test_units_are_paginated_with_bounded_queries(
        self, cast, api_as, django_assert_max_num_queries
    ):
        api = api_as("system_admin")
        with django_assert_max_num_queries(6):
            first = api.get("/units", {"page_size": 10})
        body = first.json()
        assert body["count"] == Unit.objects.count()
        assert len(body["items"]) == 10
        second = api.get("/units", {"page_size": 10, "page": 2}).json()
        assert not {u["id"] for u in body["items"]} & {u["id"] for u in second["items"]}


class TestHostileInput:
    """Values that would crash a database driver are refused at the edge (fuzzing and review
    findings): NUL characters and ids beyond any integer column."""

    @pytest.mark.parametrize(
        "path",
        [
            "/units?q=%00",
            "/units?parent_id=99999999999999999999",
            "/role-assignments?unit_id=-1",
            "/units/99999999999999999999",
            "/audit-events?actor=a%00b",
        ],
    )
    def test_bad_query_values(self, cast, api_as, path):
        response = api_as("auditor").get(path)
        assert response.status_code in (400, 404, 422), response.content
        assert response.json()["code"] in ("bad_request", "invalid_input", "not_found")

    def test_nul_in_json_body(self, cast, api_as):
        before = Unit.objects.count()
        response = api_as("captain").post(
            "/units", {"parent_id": cast.units["hongfeng"].pk, "kind": "squad", "name": "a\x00b"}
        )
        assert response.status_code == 422
        assert Unit.objects.count() == before

    @pytest.mark.parametrize("path", ["/orgs/units/?q=%00", "/roles/?q=a%00"])
    def test_nul_in_page_queries(self, cast, page_as, path):
        assert page_as("county_admin").get(path).status_code == 400
