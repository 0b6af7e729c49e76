"""The members app's number on a unit's home card (registered in members.registrations)."""

from django.urls import reverse

from hongfeng.accounts import access
from hongfeng.core.dashboard import Stat
from hongfeng.members.models import Member
from hongfeng.members.selectors import within_unit_q


def serving_member_stats(user, summary) -> list[Stat]:
    """The unit's serving members, for those who may read its files — counted as the members
    list filters them: a station counts the teams it guides (5.1.1)."""
    unit = summary.unit
    if not access.can(user, "members.view", unit):
        return []
    serving = Member.objects.visible_to(user).serving().filter(within_unit_q(unit))
    url = f"{reverse('members:list')}?unit={unit.pk}&status=serving"
    return [Stat("在册队员", serving.count(), "人", url, costly=True)]
