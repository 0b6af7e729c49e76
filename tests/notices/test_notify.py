"""`notify` may be called again for the same subject (a retried task, a second approval click):
it answers (notice, created) and writes one notice per subject, person and channel."""

from hongfeng.notices.models import Channel, Notice
from hongfeng.notices.services import notify


def test_asking_again_returns_the_first_notice(cast):
    user = cast.users["volunteer"]
    kwargs = {"mobile": "", "recipient": user, "channel": Channel.INBOX, "kind": "test"}
    first, created = notify(**kwargs, title="测试", body="第一次", ref="test:1")
    again, created_again = notify(**kwargs, title="测试", body="第二次", ref="test:1")
    assert (created, created_again) == (True, False)
    assert again.pk == first.pk and again.body == "第一次"
    other, created_other = notify(**kwargs, title="测试", body="另一件事", ref="test:2")
    assert created_other and other.pk != first.pk
    assert Notice.objects.filter(recipient=user, ref__startswith="test:").count() == 2
