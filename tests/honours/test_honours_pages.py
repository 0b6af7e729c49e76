"""Honours pages for association admins (issue 15, item 5.8; 5.2.10): the violation rule that
proposes exit — the page behind the API's `violation-rule` — and retiring an honour title from
the honours desk, with a confirmation."""

from hongfeng.audit.models import AuditEvent
from hongfeng.honours import services
from hongfeng.honours.models import HonourGrant, HonourTitle, ThresholdKind, ViolationRule
from hongfeng.honours.selectors import grantable_titles

RULE = "/honours/violation-rule/"


class TestViolationRulePage:
    def test_default_then_set_with_history(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        client = page_as("county_admin")
        page = client.get(RULE).text
        assert "12个月内第2次警告建议退出" in page and "按默认规则" in page
        assert 'value="2"' in page and 'value="12"' in page  # the form starts from the rule

        saved = client.post(RULE, {"association": zhuji.pk, "warnings": 3, "window_months": 6})
        assert saved.status_code == 302
        rule = ViolationRule.objects.get(association=zhuji)
        assert (rule.warnings, rule.window_months) == (3, 6)
        assert services.violation_rule_for(cast.units["hongfeng"])[:2] == (3, 6)
        event = AuditEvent.objects.filter(action="violation.rule_set").latest("id")
        assert event.summary == {"warnings": 3, "window_months": 6}

        client.post(RULE, {"association": zhuji.pk, "warnings": 2, "window_months": 24})
        page = client.get(saved.headers["Location"]).text
        assert "24个月内第2次警告建议退出" in page and "吴暨阳" in page
        history = page[page.index("修改记录") :]
        assert history.index("24 个月内第 2 次") < history.index("6 个月内第 3 次")  # newest first

    def test_an_ancestors_rule_is_shown_as_inherited(self, cast, page_as):
        services.set_violation_rule(
            actor=cast.users["city_admin"],
            association=cast.units["shaoxing"],
            warnings=4,
            window_months=18,
        )
        page = page_as("county_admin").get(RULE).text
        assert "18个月内第4次警告建议退出" in page and "沿用绍兴市义警协会的规则" in page

    def test_bad_values_are_refused_next_to_the_field(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        response = page_as("county_admin").post(
            RULE, {"association": zhuji.pk, "warnings": 0, "window_months": 61}
        )
        html = response.text
        assert response.status_code == 200
        assert 'id="id_warnings-error"' in html and 'id="id_window_months-error"' in html
        assert "大于或等于1" in html and "小于或等于60" in html
        assert not ViolationRule.objects.filter(association=zhuji).exists()

    def test_who_may_open_and_post(self, cast, page_as):
        zhuji = cast.units["zhuji"]
        body = {"association": zhuji.pk, "warnings": 3, "window_months": 6}
        for key in ("captain", "squad_leader", "volunteer", "auditor", "station_officer"):
            assert page_as(key).get(RULE).status_code == 403, key
            assert page_as(key).post(RULE, body).status_code == 403, key
        assert page_as("outsider").get(f"{RULE}?association={zhuji.pk}").status_code == 404
        assert page_as("outsider").post(RULE, body).status_code == 404
        county = page_as("county_admin")
        assert county.get(f"{RULE}?association={cast.units['shaoxing'].pk}").status_code == 404
        assert not ViolationRule.objects.exists()

    def test_reachable_from_the_desk_and_the_warnings_page(self, cast, page_as):
        admin = page_as("county_admin")
        assert f'href="{RULE}"' in admin.get("/honours/desk/").text
        assert f'href="{RULE}"' in admin.get("/honours/violations/").text
        assert f'href="{RULE}"' not in page_as("captain").get("/honours/violations/").text

    def test_queries_are_bounded(self, cast, page_as, django_assert_max_num_queries):
        zhuji = cast.units["zhuji"]
        client = page_as("city_admin")
        for months in (6, 7, 8, 9):
            client.post(RULE, {"association": zhuji.pk, "warnings": 2, "window_months": months})
        with django_assert_max_num_queries(10):
            page = client.get(f"{RULE}?association={zhuji.pk}").text
        assert page.count("个月内第 2 次警告建议退出") == 4


def _title(cast, name="社区守护星") -> HonourTitle:
    return services.create_title(
        actor=cast.users["county_admin"],
        association=cast.units["zhuji"],
        name=name,
        threshold_kind=ThresholdKind.MANUAL,
    )


class TestRetireTitle:
    def test_retire_from_the_desk_with_a_confirmation(self, cast, page_as):
        title = _title(cast)
        member = cast.users["volunteer"].member
        grant = services.grant_honour(
            actor=cast.users["county_admin"], member=member, title=title, reason="表现突出"
        )
        client = page_as("county_admin")
        desk = client.get("/honours/desk/").text
        action = f'action="/honours/titles/{title.pk}/retire"'
        assert action in desk
        form = desk[desk.index(action) - 200 : desk.index(action) + 400]
        assert "data-confirm=" in form and "不能重新启用" in form and "confirm.js" in desk

        response = client.post(f"/honours/titles/{title.pk}/retire")
        assert response.status_code == 302 and response.headers["Location"] == "/honours/desk/"
        title.refresh_from_db()
        assert not title.active
        assert HonourGrant.objects.filter(pk=grant.pk).exists()  # grants stay
        assert AuditEvent.objects.filter(
            action="honour.title_retired", target_id=str(title.pk)
        ).exists()
        after = client.get("/honours/desk/").text
        assert action not in after and "已停用" in after
        assert title not in grantable_titles(cast.users["county_admin"])

    def test_a_captain_sees_the_title_but_cannot_retire_it(self, cast, page_as):
        title = _title(cast)
        captain = page_as("captain")
        assert f"/honours/titles/{title.pk}/retire" not in captain.get("/honours/desk/").text
        assert captain.post(f"/honours/titles/{title.pk}/retire").status_code == 403
        assert page_as("outsider").post(f"/honours/titles/{title.pk}/retire").status_code == 404
        assert page_as("city_admin").get(f"/honours/titles/{title.pk}/retire").status_code == 405
        title.refresh_from_db()
        assert title.active

    def test_desk_queries_stay_bounded(self, cast, page_as, django_assert_max_num_queries):
        for n in range(5):
            _title(cast, name=f"称号{n}")
        client = page_as("county_admin")
        client.get("/honours/desk/")
        with django_assert_max_num_queries(16):
            assert client.get("/honours/desk/").status_code == 200
