"""Points pages for association admins (issue 15, item 5.8): 积分规则 — the rule in force, its
versions, a new version previewed with a worked example before it is published (5.4.5) — and
a star-rating run's page: its results, 复核 against the ledger, 公布 later (7.2.3)."""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from hongfeng.activities.models import Activity
from hongfeng.audit.models import AuditEvent
from hongfeng.members.models import Member
from hongfeng.points import rules, services
from hongfeng.points.models import PointsRule, RatingRun

RULES = "/points/rules/"


def _form(association, **changes) -> dict:
    body = {
        "association": association.pk,
        "per_hour": "12",
        "difficulty_normal": "1",
        "difficulty_harder": "1.2",
        "difficulty_hard": "1.5",
        "difficulty_high_risk": "2",
        "quality_excellent": "1.2",
        "quality_good": "1",
        "quality_pass": "0.8",
        "quality_fail": "0",
        "effective_from": "",
        "note": "加大激励",
    }
    body.update(changes)
    return body


def _digest(html: str) -> str:
    return re.search(r'name="digest" value="([0-9a-f]+)"', html).group(1)


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


class TestRulesPage:
    def test_preview_shows_the_worked_example_and_publishing_needs_it(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        client = page_as("county_admin")
        preview = client.post(RULES, {**_form(zhuji), "action": "preview"})
        html = preview.content.decode()
        assert preview.status_code == 200
        # 2 h × 12 × 1.5 × 1.2 = 43.2, exactly as the ledger entry will explain it
        assert "2 h × 12 × 1.5（困难）× 1.2（优秀）= 43.2" in html
        assert "确认发布第 1 版" in html
        assert not PointsRule.objects.filter(association=zhuji).exists()

        # Values changed after the preview: shown again, not published.
        changed = client.post(
            RULES, {**_form(zhuji, per_hour="13"), "digest": _digest(html), "action": "publish"}
        )
        assert "数值已改动" in changed.content.decode()
        assert "2 h × 13 × 1.5（困难）× 1.2（优秀）= 46.8" in changed.content.decode()
        assert not PointsRule.objects.filter(association=zhuji).exists()

        done = client.post(RULES, {**_form(zhuji), "digest": _digest(html), "action": "publish"})
        assert done.status_code == 302
        rule = PointsRule.objects.get(association=zhuji)
        assert (rule.version, rule.per_hour, rule.note) == (1, Decimal("12"), "加大激励")
        assert rule.difficulty["hard"] == "1.5" and rule.quality["excellent"] == "1.2"
        event = AuditEvent.objects.filter(action="points.rule_published").latest("id")
        assert event.summary["version"] == 1 and event.unit_id == zhuji.pk
        page = client.get(done.headers["Location"]).content.decode()
        assert "诸暨市义警协会 第1版" in page and "生效中" in page
        assert "2 h × 12 × 1.5（困难）× 1.2（优秀）= 43.2" in page  # the rule now in force

    def test_a_publish_without_preview_is_only_previewed(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        response = page_as("county_admin").post(RULES, {**_form(zhuji), "action": "publish"})
        assert response.status_code == 200 and "数值已改动" in response.content.decode()
        assert not PointsRule.objects.filter(association=zhuji).exists()

    def test_bad_values_are_refused_next_to_their_field(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        client = page_as("county_admin")
        negative = client.post(RULES, {**_form(zhuji, per_hour="-1"), "action": "preview"})
        html = negative.content.decode()
        assert 'id="id_per_hour-error"' in html and "大于或等于0" in html
        assert 'value="加大激励"' in html  # what was typed stays

        past = _local(timezone.now() - timedelta(days=2))
        preview = client.post(RULES, {**_form(zhuji, effective_from=past), "action": "preview"})
        published = client.post(
            RULES,
            {
                **_form(zhuji, effective_from=past),
                "digest": _digest(preview.content.decode()),
                "action": "publish",
            },
        )
        html = published.content.decode()
        assert 'id="id_effective_from-error"' in html and "生效时间不能早于现在" in html
        assert not PointsRule.objects.filter(association=zhuji).exists()

    def test_a_version_scheduled_ahead_takes_over_at_its_time(self, cast, page_as):
        zhuji, team = cast.units["zhuji"], cast.units["hongfeng"]
        client = page_as("county_admin")
        ahead = timezone.now() + timedelta(days=10)
        body = _form(zhuji, effective_from=_local(ahead), per_hour="20")
        preview = client.post(RULES, {**body, "action": "preview"})
        assert "起生效" in preview.content.decode()
        digest = _digest(preview.content.decode())
        client.post(RULES, {**body, "digest": digest, "action": "publish"})
        scheduled = PointsRule.objects.get(association=zhuji)
        assert scheduled.effective_from > timezone.now() + timedelta(days=9)
        assert "待生效" in client.get(f"{RULES}?association={zhuji.pk}").content.decode()
        assert services.rule_for(team)[1] is None  # the default until then
        # Version 2, in force now for the meantime, does not hide version 1 when its time comes.
        meantime = services.publish_rule(
            actor=cast.users["county_admin"],
            association=zhuji,
            per_hour="15",
            difficulty=rules.DEFAULT_DIFFICULTY,
            quality=rules.DEFAULT_QUALITY,
        )
        assert services.rule_for(team)[1] == meantime
        with time_machine.travel(ahead + timedelta(hours=1)):
            assert services.rule_for(team)[1] == scheduled

    def test_who_may_open_and_post(self, cast, page_as):
        zhuji, shaoxing = cast.units["zhuji"], cast.units["shaoxing"]
        for key in ("captain", "volunteer", "auditor", "station_officer"):
            client = page_as(key)
            assert client.get(RULES).status_code == 403, key
            assert client.post(RULES, {**_form(zhuji), "action": "preview"}).status_code == 403
        # An association out of reach: 404, as in the API.
        assert page_as("county_admin").get(f"{RULES}?association={shaoxing.pk}").status_code == 404
        assert page_as("outsider").get(f"{RULES}?association={zhuji.pk}").status_code == 404
        team = page_as("county_admin").get(f"{RULES}?association={cast.units['hongfeng'].pk}")
        assert team.status_code == 404  # a team is no association
        city = page_as("city_admin").get(f"{RULES}?association={zhuji.pk}")
        assert city.status_code == 200 and "积分规则 · 诸暨市义警协会" in city.content.decode()

    def test_reachable_from_the_ranking_page_for_admins_only(self, cast, page_as):
        assert 'href="/points/rules/"' in page_as("county_admin").get("/points/ranking/").text
        assert 'href="/points/rules/"' not in page_as("captain").get("/points/ranking/").text

    def test_queries_are_bounded(self, cast, page_as, django_assert_max_num_queries):
        zhuji = cast.units["zhuji"]
        for per_hour in ("11", "12", "13", "14"):
            services.publish_rule(
                actor=cast.users["county_admin"],
                association=zhuji,
                per_hour=per_hour,
                difficulty=rules.DEFAULT_DIFFICULTY,
                quality=rules.DEFAULT_QUALITY,
            )
        client = page_as("city_admin")
        client.get(RULES)  # session and permissions warm
        with django_assert_max_num_queries(12):
            response = client.get(f"{RULES}?association={zhuji.pk}")
        assert response.text.count("已被取代") == 3


def test_api_takes_an_effective_time(cast, api_as):
    body = {
        "association_id": cast.units["zhuji"].pk,
        "per_hour": "12",
        "difficulty": rules.DEFAULT_DIFFICULTY,
        "quality": rules.DEFAULT_QUALITY,
    }
    api = api_as("county_admin")
    past = api.post("/points-rules", {**body, "effective_from": "2020-01-01T08:00:00+08:00"})
    assert past.status_code == 400 and past.json()["code"] == "invalid_effective_from"
    ahead = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    made = api.post("/points-rules", {**body, "effective_from": ahead.isoformat()})
    assert made.status_code == 201
    assert datetime.fromisoformat(made.json()["effective_from"]) == ahead
    assert api.post("/points-rules", body).json()["version"] == 2  # default: now


# ---- a star-rating run's page (7.2.3) --------------------------------------------------------


def _zhuji_run(cast) -> RatingRun:
    year = (timezone.localdate() - timedelta(days=10)).year
    return services.run_rating(
        actor=cast.users["county_admin"], association=cast.units["zhuji"], year=year
    )


class TestRatingRunPage:
    def test_rating_leads_to_the_run_page(self, cast, page_as):
        year = (timezone.localdate() - timedelta(days=10)).year
        client = page_as("county_admin")
        response = client.post(
            "/points/ranking/", {"association": cast.units["zhuji"].pk, "year": year}
        )
        run = RatingRun.objects.filter(association=cast.units["zhuji"]).latest("id")
        assert response.headers["Location"] == f"/points/ratings/{run.pk}/"
        assert not run.published
        ranking = client.get("/points/ranking/").text
        assert f'href="/points/ratings/{run.pk}/"' in ranking and "复核与公布" in ranking

    def test_check_then_publish_later(self, cast, page_as):
        run = _zhuji_run(cast)
        url = f"/points/ratings/{run.pk}/"
        client = page_as("county_admin")
        page = client.get(url).text
        assert "红枫义警总队" in page and "未公布" in page
        assert 'name="action" value="publish"' in page and "data-confirm=" in page
        assert "复核一致" in client.get(f"{url}?check=1").text

        # The ledger moves after the rating: 复核 names the team and the difference.
        member = Member.objects.filter(unit__team=cast.units["hongfeng"]).first()
        activity = _an_activity_of(run)
        services.post_entry(
            member=member,
            source="correction",
            amount=Decimal(700),
            explanation="补记",
            activity=activity,
        )
        checked = client.get(f"{url}?check=1").text
        assert "复核发现 1 处与台账不一致" in checked and "红枫义警总队：评定时" in checked

        published = client.post(url, {"action": "publish"})
        assert published.status_code == 302
        run.refresh_from_db()
        assert run.published
        assert AuditEvent.objects.filter(
            action="points.rating_published", summary__run=run.pk
        ).exists()
        after = client.get(url).text
        assert f'href="/public/ratings/{run.pk}/"' in after and 'value="publish"' not in after
        assert client.get(f"/public/ratings/{run.pk}/").status_code == 200

    def test_who_sees_and_who_publishes(self, cast, page_as):
        run = _zhuji_run(cast)
        url = f"/points/ratings/{run.pk}/"
        # Sees the association but rates nothing: reads the run, cannot publish it (403).
        sysadmin = page_as("system_admin")
        page = sysadmin.get(url)
        assert page.status_code == 200 and 'value="publish"' not in page.text
        assert sysadmin.post(url, {"action": "publish"}).status_code == 403
        # Out of sight: 404, for reading and for publishing.
        for key in ("outsider", "sibling_captain", "captain"):
            assert page_as(key).get(url).status_code == 404, key
            assert page_as(key).post(url, {"action": "publish"}).status_code == 404, key
        run.refresh_from_db()
        assert not run.published
        assert page_as("county_admin").get("/points/ratings/abc/").status_code == 404

    def test_queries_are_bounded(self, cast, page_as, django_assert_max_num_queries):
        run = RatingRun.objects.filter(association=cast.units["shaoxing"]).latest("id")
        client = page_as("city_admin")
        client.get("/points/ranking/")
        with django_assert_max_num_queries(10):
            assert client.get(f"/points/ratings/{run.pk}/").status_code == 200
        with django_assert_max_num_queries(18):  # + the three years recomputed from the ledger
            assert "复核一致" in client.get(f"/points/ratings/{run.pk}/?check=1").text


def _an_activity_of(run):
    """An activity that started in the run's year (its points count for that year)."""
    start = datetime(run.year, 1, 1, tzinfo=timezone.get_current_timezone())
    end = start.replace(year=run.year + 1)
    return Activity.objects.filter(starts_at__gte=start, starts_at__lt=end).first()
