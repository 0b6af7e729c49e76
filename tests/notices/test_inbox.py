"""The inbox (站内消息): broadcasts listed with their answer buttons and the unread count in
the navigation, read one by one or all at once, nobody reading another person's notice, bounded
queries — and an answered or finished broadcast shows where it stands instead of offering 报名
again (issue 15, 5.5)."""

import re

from hongfeng.activities import services
from hongfeng.activities.models import Activity, ActivityStatus, Participation
from hongfeng.notices.models import Channel, Notice
from tests.support.activities import CARE, patrol_title


def _text(response) -> str:
    return response.content.decode()


def _squeezed(response) -> str:
    """The page with every run of white space made one space."""
    return re.sub(r"\s+", " ", response.content.decode())


class TestInbox:
    def test_inbox_lists_broadcasts_with_answers_and_marks_read(self, cast, page_as):
        user = cast.users["volunteer"]
        client = page_as("volunteer")
        unread = Notice.objects.filter(
            recipient=user, channel=Channel.INBOX, read_at__isnull=True
        ).count()
        assert unread > 0
        text = _text(client.get("/inbox/"))
        assert "新活动" in text and "hf-unread" in text
        assert ">报名</button>" in text and ">婉拒</button>" in text
        assert f"{unread} 条未读" in text  # the count in the navigation
        notice = Notice.objects.filter(
            recipient=user, channel=Channel.INBOX, kind="activity_broadcast"
        ).first()
        response = client.post(f"/inbox/{notice.pk}/read/", {"next": f"{notice.link}#answer"})
        assert response.status_code == 302 and response["Location"].startswith(notice.link)
        notice.refresh_from_db()
        assert notice.read_at is not None
        evil = client.post(f"/inbox/{notice.pk}/read/", {"next": "https://evil.example/"})
        assert evil["Location"] == "/inbox/"
        client.post("/inbox/read-all/")
        assert not Notice.objects.filter(
            recipient=user, channel=Channel.INBOX, read_at__isnull=True
        ).exists()
        assert "没有未读消息" in _text(client.get("/inbox/?unread=1"))

    def test_nobody_reads_another_persons_notice(self, cast, page_as):
        notice = Notice.objects.filter(
            recipient=cast.users["volunteer"], channel=Channel.INBOX
        ).first()
        page_as("captain").post(f"/inbox/{notice.pk}/read/")
        notice.refresh_from_db()
        assert notice.read_at is None

    def test_inbox_bounded(self, cast, page_as, django_assert_max_num_queries):
        client = page_as("volunteer")
        client.get("/inbox/")
        with django_assert_max_num_queries(10):
            assert client.get("/inbox/").status_code == 200

    def test_empty_inbox(self, cast, page_as):
        assert "还没有消息" in _text(page_as("auditor").get("/inbox/"))


class TestInboxAnswers:
    def test_answered_or_over_broadcasts_show_their_state(self, cast, page_as):
        user = cast.users["volunteer"]
        client = page_as("volunteer")
        text = _squeezed(client.get("/inbox/"))

        def notice_html(title):
            notice = Notice.objects.get(
                recipient=user, channel=Channel.INBOX, title=f"新活动：{title}"
            )
            start = text.index(f'id="notice-{notice.pk}"')
            return text[start : text.index("</article>", start)]

        patrol = notice_html(patrol_title())
        assert "已报名" in patrol and ">报名</button>" not in patrol and ">查看</button>" in patrol
        assert ">报名</button>" in notice_html(CARE)
        services.cancel_activity(
            actor=cast.users["captain"], activity=Activity.objects.get(title=CARE), reason="改期"
        )
        text = _squeezed(client.get("/inbox/"))
        assert "活动已取消" in notice_html(CARE) and ">报名</button>" not in notice_html(CARE)

    def test_a_cancelled_sign_up_and_a_finished_activity(self, cast, page_as):
        user = cast.users["volunteer"]
        care = Activity.objects.get(title=CARE)
        services.sign_up(user=user, activity=care)
        services.cancel_sign_up(user=user, activity=care)
        Activity.objects.filter(title=patrol_title()).update(status=ActivityStatus.FINISHED)
        Participation.objects.filter(activity__title=patrol_title(), member__user=user).update(
            status="cancelled"
        )
        text = _squeezed(page_as("volunteer").get("/inbox/"))
        assert "已取消报名" in text and "活动已结束" in text
