"""Delivering a notice through its channel: a channel that fails marks the notice failed with
the reason, and a retried delivery never sends twice."""

from hongfeng.notices.channels import ChannelError
from hongfeng.notices.models import Notice
from hongfeng.notices.services import deliver, notify


class BrokenChannel:
    """A text-message gateway that is down."""

    def send(self, notice):
        raise ChannelError("短信网关不可用")


def test_a_failing_channel_marks_the_notice(cast, settings):
    settings.NOTICE_BACKENDS = {"sms": "tests.notices.test_delivery.BrokenChannel"}
    notice, _ = notify(mobile="13612345678", kind="test", title="测试", body="测试")
    deliver(notice.pk)
    deliver(notice.pk)  # a retry does not send twice
    notice = Notice.objects.get(pk=notice.pk)
    assert notice.status == "failed" and notice.attempts == 1 and "网关" in notice.error
