"""Every activity has a safety risk assessment (5.4.7; issue 15, 4.2): a default per
association and kind, pre-filled in the publish form, used by the API when omitted and required
before publishing, edited and audited on the association's page, read by volunteers as safety
notes."""

import json
import re

import pytest

from hongfeng.activities import services
from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    RiskAssessmentDefault,
)
from hongfeng.audit.models import AuditEvent
from tests.support.activities import api_body

BUILTIN = services.BUILTIN_RISK_ASSESSMENTS


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


class TestRiskAssessment:
    """4.2, clause 5.4.7: every activity has one, and writing it is cheap."""

    def _save(self, api, unit, kind, text, version=None):
        body = {"text": text} if version is None else {"text": text, "version": version}
        return api.put(f"/activity-risk-defaults/{unit.pk}/{kind}", body)

    def test_api_uses_the_nearest_associations_default_when_omitted(self, cast, api_as):
        city, county = cast.units["shaoxing"], cast.units["zhuji"]
        for who, unit, text in (
            ("city_admin", city, "市：人多"),
            ("county_admin", county, "县：防踩踏"),
        ):
            assert self._save(api_as(who), unit, "publicity", text).status_code == 200
        created = api_as("captain").post(
            "/activities", api_body(cast, kind="publicity", title="反诈宣传")
        )
        assert created.json()["risk_assessment"] == "县：防踩踏"  # the nearest wins
        keqiao = api_as("sibling_captain").post(
            "/activities",
            api_body(cast, kind="publicity", unit_id=cast.units["keqiao_team"].pk),
        )
        assert keqiao.json()["risk_assessment"] == "市：人多"  # its county has none
        care = api_as("captain").post("/activities", api_body(cast, kind="care", title="探访"))
        assert care.json()["risk_assessment"] == BUILTIN["care"]  # nobody wrote one
        own = api_as("captain").post(
            "/activities", api_body(cast, kind="care", risk_assessment="本次入户两人一组")
        )
        assert own.json()["risk_assessment"] == "本次入户两人一组"

    def test_publishing_without_any_assessment_is_refused(self, cast, api_as):
        api = api_as("captain")
        aid = api.post("/activities", api_body(cast, risk_assessment="")).json()["id"]
        response = api.post(f"/activities/{aid}/publish")
        assert response.status_code == 400
        assert response.json()["code"] == "risk_assessment_required"
        assert Activity.objects.get(pk=aid).status == ActivityStatus.DRAFT

    def test_an_edit_that_omits_it_keeps_the_text(self, cast, api_as):
        api = api_as("captain")
        body = api_body(cast, kind="care", risk_assessment="本次入户两人一组")
        aid = api.post("/activities", body).json()["id"]
        body.pop("risk_assessment")
        updated = api.put(f"/activities/{aid}", {**body, "capacity": 9})
        assert updated.json()["risk_assessment"] == "本次入户两人一组"

    def test_only_association_admins_in_reach_write_defaults(self, cast, api_as):
        county = cast.units["zhuji"]
        assert self._save(api_as("captain"), county, "patrol", "x").status_code == 404
        team = cast.units["hongfeng"]
        assert self._save(api_as("captain"), team, "patrol", "x").status_code == 400
        assert self._save(api_as("outsider"), county, "patrol", "x").status_code == 404
        assert self._save(api_as("county_admin"), county, "patrol", "").status_code == 422
        row = RiskAssessmentDefault.objects.get(association=county, kind="patrol")  # demo
        stale = self._save(api_as("county_admin"), county, "patrol", "新", version=row.version - 1)
        assert stale.status_code == 409
        row.refresh_from_db()
        assert row.text != "新"

    def test_defaults_readable_for_prefill(self, cast, api_as):
        rows = api_as("captain").get(f"/activity-risk-defaults?unit_id={cast.units['hongfeng'].pk}")
        by_kind = {r["kind"]: r for r in rows.json()}
        assert len(by_kind) == 10
        assert by_kind["patrol"]["source"]["name"] == "诸暨市义警协会"  # demo: the county's own
        assert by_kind["care"]["source"] is None and by_kind["care"]["text"] == BUILTIN["care"]

    def test_form_is_prefilled_for_kind_and_unit(self, cast, page_as):
        text = _text(page_as("captain").get("/activities/new/"))
        assert BUILTIN["risk_inspection"] in text  # the form's first kind
        assert "activity_risk.js" in text
        found = re.search(
            r'<script id="risk-defaults" type="application/json">(.*?)</script>', text
        )
        data = json.loads(found.group(1))  # what the script switches to per kind and unit
        county = cast.units["zhuji"]
        assert data["custom"][str(county.pk)]["patrol"] == (
            RiskAssessmentDefault.objects.get(association=county, kind="patrol").text
        )
        assert data["units"][str(cast.units["hongfeng"].pk)] == [county.pk]
        assert data["builtin"]["care"] == BUILTIN["care"]

    def test_page_edits_and_audits(self, cast, page_as):
        county = cast.units["zhuji"]
        client = page_as("county_admin")
        assert "风险评估模板" in _text(client.get("/activities/?tab=manage"))
        page = _text(client.get("/activities/risk-defaults/"))
        assert "诸暨市义警协会" in page and "本协会设定" in page and "系统内置" in page
        before = AuditEvent.objects.filter(action="activity.risk_default_saved").count()
        response = client.post(
            "/activities/risk-defaults/",
            {
                "association": county.pk,
                "kind": "care",
                "care-text": "入户两人以上，提前联系家属。",
                "care-version": "0",
            },
        )
        assert response.status_code == 302
        row = RiskAssessmentDefault.objects.get(association=county, kind="care")
        assert row.text == "入户两人以上，提前联系家属。"
        assert AuditEvent.objects.filter(action="activity.risk_default_saved").count() == before + 1
        stale = client.post(
            "/activities/risk-defaults/",
            {"association": county.pk, "kind": "care", "care-text": "覆盖", "care-version": "0"},
        )
        assert stale.status_code == 400 and "已被他人修改" in _text(stale)
        assert RiskAssessmentDefault.objects.get(pk=row.pk).text == "入户两人以上，提前联系家属。"
        empty = client.post(
            "/activities/risk-defaults/",
            {"association": county.pk, "kind": "care", "care-text": "", "care-version": "1"},
        )
        assert empty.status_code == 400 and 'id="id_care-text-error"' in _text(empty)

    @pytest.mark.parametrize(("who", "status"), [("captain", 403), ("volunteer", 403)])
    def test_page_refused_to_others(self, cast, page_as, who, status):
        assert page_as(who).get("/activities/risk-defaults/").status_code == status
        assert "风险评估模板" not in _text(page_as(who).get("/activities/?tab=open"))

    def test_page_out_of_reach_is_404(self, cast, page_as):
        zhuji = cast.units["zhuji"].pk
        url = "/activities/risk-defaults/?association="
        assert page_as("outsider").get(f"{url}{zhuji}").status_code == 404
        assert page_as("county_admin").get(f"{url}abc").status_code == 404
        city = page_as("city_admin").get(f"/activities/risk-defaults/?association={zhuji}")
        assert city.status_code == 200 and "安全风险评估模板 · 诸暨市义警协会" in _text(city)

    def test_every_demo_activity_carries_one(self, cast):
        assert not Activity.objects.filter(risk_assessment="").exists()

    def test_volunteer_reads_it_as_safety_notes(self, cast, page_as):
        care = Activity.objects.get(title="留守儿童课后陪伴")
        text = _text(page_as("volunteer").get(f"/activities/{care.pk}/"))
        assert "安全须知" in text and care.risk_assessment in text
