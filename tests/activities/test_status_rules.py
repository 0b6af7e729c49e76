"""What an activity's and a participation's status allow, said once on the model (issue 16,
item 4): sign-up open, check-in open and its time window, the active participations and the
waitlist position — each Python rule agrees with its SQL twin, and the pages and the API use
the same answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hongfeng.activities.models import (
    Activity,
    ActivityStatus,
    CheckInKind,
    Participation,
    ParticipationStatus,
)
from hongfeng.members.models import Member
from tests.conftest import ApiClient

# The table the rules are read from: (status, open for sign-up, takes check-ins).
STATUSES = [
    (ActivityStatus.DRAFT, False, False),
    (ActivityStatus.PUBLISHED, True, True),
    (ActivityStatus.IN_PROGRESS, True, True),
    (ActivityStatus.FINISHED, False, True),
    (ActivityStatus.EVALUATED, False, False),
    (ActivityStatus.CANCELLED, False, False),
]


def test_the_table_covers_every_status():
    assert sorted(s for s, _, _ in STATUSES) == sorted(ActivityStatus.values)
    assert set(ActivityStatus.values) >= ActivityStatus.OPEN_FOR_SIGNUP
    assert set(ActivityStatus.values) >= ActivityStatus.OPEN_FOR_CHECKIN
    assert set(ParticipationStatus.values) >= ParticipationStatus.ACTIVE
    # the sets are rules, not choices
    assert "OPEN_FOR_SIGNUP" not in ActivityStatus.names
    assert len(ParticipationStatus.choices) == 4


@pytest.mark.parametrize(("status", "signup", "checkin"), STATUSES)
def test_what_each_status_allows(status, signup, checkin):
    activity = Activity(status=status)
    assert activity.open_for_signup is signup
    assert activity.accepts_checkins is checkin


def test_check_in_window():
    starts = timezone.now()
    activity = Activity(starts_at=starts, ends_at=starts + timedelta(hours=2))
    assert activity.checkin_opens_at == starts - timedelta(minutes=30)
    assert activity.checkout_closes_at == starts + timedelta(hours=2, minutes=30)
    assert activity.checkin_window(CheckInKind.IN) == (
        starts - timedelta(minutes=30),
        starts + timedelta(hours=2),
    )
    assert activity.checkin_window(CheckInKind.OUT)[1] == activity.checkout_closes_at


def test_open_for_signup_in_sql_agrees(cast):
    now = timezone.now()
    found = set(Activity.objects.open_for_signup(now).values_list("pk", flat=True))
    assert found
    for activity in Activity.objects.all():
        expected = activity.open_for_signup and activity.ends_at > now
        assert (activity.pk in found) is expected, activity.title


def test_active_participations_in_sql_agree(cast):
    first, second = Participation.objects.order_by("pk")[:2]
    Participation.objects.filter(pk=first.pk).update(status=ParticipationStatus.DECLINED)
    Participation.objects.filter(pk=second.pk).update(status=ParticipationStatus.CANCELLED)
    rows = list(Participation.objects.all())
    assert {p.status for p in rows} == set(ParticipationStatus.values)
    active = set(Participation.objects.active().values_list("pk", flat=True))
    assert active == {p.pk for p in rows if p.is_active}
    assert first.pk not in active and second.pk not in active


def test_waitlist_position(cast, client):
    activity = Activity.objects.get(title="防范电信诈骗集市宣传")  # 3 places, 2 waiting
    rows = list(activity.participations.order_by("queued_at", "id"))
    waiting = [p for p in rows if p.status == ParticipationStatus.WAITLISTED]
    assert [p.waitlist_position() for p in waiting] == [1, 2]
    assert {p.waitlist_position() for p in rows if p not in waiting} == {None}
    # the page and the API tell the second in line the same place
    user = waiting[1].member.user
    client.force_login(user)
    assert "您在候补第 2 位" in client.get(f"/activities/{activity.pk}/").content.decode()
    again = ApiClient(user).post(f"/activities/{activity.pk}/signup")
    assert again.json()["waitlist_position"] == 2


def test_partner_candidates_in_sql_agree(cast):
    day = timezone.localdate()
    found = set(Member.objects.partner_candidates(day).values_list("pk", flat=True))
    members = list(Member.objects.all())
    assert found and len(found) < len(members)
    assert found == {m.pk for m in members if m.can_partner_on(day)}
