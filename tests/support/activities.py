"""Activities the tests publish (a patrol at the demo team's place, through the services; the
API's request body) and the demo's activities they read, by title."""

from datetime import timedelta

from django.utils import timezone

from hongfeng.activities import services
from hongfeng.activities.demo import CURRENT_PATROL
from hongfeng.activities.models import Activity

LAT, LON = 29.6263, 120.3176


def activity_data(**overrides):
    """A patrol at 枫桥镇中心街 starting in ten minutes, for three hours, five places."""
    starts = overrides.pop("starts_at", timezone.now() + timedelta(minutes=10))
    hours = overrides.pop("hours", 3)
    fields = {
        "kind": "patrol",
        "title": "测试巡逻",
        "place": "枫桥镇中心街",
        "latitude": LAT,
        "longitude": LON,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=hours),
        "capacity": 5,
        "radius_m": 200,
    }
    fields.update(overrides)
    return services.ActivityData(**fields)


def published_activity(cast, **overrides):
    """An activity the captain publishes for the 红枫 team (or `audience`)."""
    audience = overrides.pop("audience", cast.units["hongfeng"])
    activity = services.create_activity(
        actor=cast.users["captain"],
        unit=cast.units["hongfeng"],
        audience_unit=audience,
        data=activity_data(**overrides),
    )
    return services.publish_activity(actor=cast.users["captain"], activity=activity)


def api_body(cast, **changes) -> dict:
    """The JSON body of POST /activities: a four-hour training of the 红枫 team in two days."""
    starts = changes.pop("starts", timezone.now() + timedelta(days=2))
    body = {
        "kind": "training",
        "title": "岗前培训第九期",
        "unit_id": cast.units["hongfeng"].pk,
        "place": "枫桥镇社区警校",
        "latitude": LAT,
        "longitude": LON,
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=4)).isoformat(),
        "capacity": 30,
    }
    body.update(changes)
    return body


# Activities of the demo, by title (hongfeng.activities.demo).
CARE = "留守儿童课后陪伴"  # open to 张三, the demo volunteer
HIGH_RISK = "枫桥江汛期应急协同处置"  # core members only, high risk
KEQIAO = "柯岩景区周末巡逻"  # another county's team
DRAFT = "第一分队辖区监控探头排查（草稿）"


def patrol_title() -> str:
    """The demo's running patrol, named after the hour the cast was built at."""
    return Activity.objects.get(title__in=CURRENT_PATROL).title
