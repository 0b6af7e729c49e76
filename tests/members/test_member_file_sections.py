"""The member file shows points, level, honours, certificates and warnings (一人一档, 5.2.7;
issue 15, item 3.6): sections the points and honours apps register with core.member_file, on
the file page, on 我的档案 and in the file's PDF — members itself imports neither."""

import io
import re
from decimal import Decimal

import pytest
from pypdf import PdfReader

from hongfeng.core import member_file
from hongfeng.honours.models import HonourGrant, MemberWarning
from hongfeng.members.models import Member
from hongfeng.points import services as points_services
from hongfeng.points.selectors import summary
from tests.support.paths import SRC

GONE = "相关功能上线后"


def _zhangsan():
    return Member.objects.get(name="张三")


def _text(response) -> str:
    return response.content.decode()


def _points_block(text: str, member) -> None:
    figures = summary(member)
    assert "积分与等级" in text and figures["level_label"] in text
    assert f"{figures['earned']:.2f}".rstrip("0").rstrip(".") in text


def test_the_file_page_shows_every_section(cast, page_as, django_assert_max_num_queries):
    member = _zhangsan()
    grant = HonourGrant.objects.get(member=member)
    client = page_as("captain")
    with django_assert_max_num_queries(34):
        response = client.get(f"/members/{member.pk}/")
    text = _text(response)
    _points_block(text, member)
    assert "荣誉与证书" in text and f"「{grant.title.name}」" in text
    assert "警告记录" in text and "没有警告记录" in text
    assert "培训课程：暂无记录" in text and GONE not in text
    # in the registered order, after the service record
    order = [text.index(t) for t in ("服务记录", "积分与等级", "荣誉与证书", "警告记录")]
    assert order == sorted(order)


def test_my_file_shows_them_too(cast, page_as):
    member = _zhangsan()
    text = _text(page_as("volunteer").get("/members/me/"))
    _points_block(text, member)
    assert "「先进个人」" in text and GONE not in text


def test_warnings_with_their_penalty(cast, page_as):
    warning = MemberWarning.objects.select_related("member").first()
    text = _text(page_as("captain").get(f"/members/{warning.member_id}/"))
    assert "警告记录" in text and warning.reason in text and "扣 10 分" in text


def test_sections_follow_each_domains_access(cast, page_as):
    """The station officer may read the file (and its points) but not honours or warnings,
    as in the honours API."""
    text = _text(page_as("station_officer").get(f"/members/{_zhangsan().pk}/"))
    assert "积分与等级" in text
    assert "荣誉与证书" not in text and "警告记录" not in text


def test_queries_do_not_grow_with_the_records(cast, page_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    member = _zhangsan()
    client = page_as("captain")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/members/{member.pk}/").status_code == 200
        return len(queries)

    count()  # the session and the caches warm up
    before = count()
    for n in range(6):
        points_services.post_entry(
            member=member, source="award", amount=Decimal(5), explanation=f"表彰 {n}"
        )
    assert count() == before


def test_the_pdf_carries_the_sections(cast, page_as):
    member = _zhangsan()
    response = page_as("captain").get(f"/members/{member.pk}/file.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "积分与等级" in text and summary(member)["level_label"] in text
    assert "先进个人" in text and "警告记录" in text
    assert "培训课程：暂无记录" in text and "暂无记录，相关" not in text


class TestRegistry:
    @pytest.fixture(autouse=True)
    def _restore(self):
        saved = dict(member_file._sections)
        yield
        member_file._sections.clear()
        member_file._sections.update(saved)

    def test_order_and_access(self, cast):
        def hidden(*, member, viewer):
            return None

        def shown(*, member, viewer):
            return {"who": viewer.name}

        member_file.register_section(
            "zz_first", order=1, title="甲", provider=shown,
            template="core/_messages.html", pdf_template="core/_messages.html",
        )  # fmt: skip
        member_file.register_section(
            "zz_hidden", order=2, title="乙", provider=hidden,
            template="core/_messages.html", pdf_template="core/_messages.html",
        )  # fmt: skip
        rendered = member_file.render_sections(
            member=_zhangsan(), viewer=cast.users["captain"], pdf=True
        )
        keys = [s.key for s in rendered]
        assert keys[0] == "zz_first" and "zz_hidden" not in keys
        assert keys[1:] == ["points", "honours", "warnings"]


def test_members_imports_neither_points_nor_honours():
    """Layering (architecture.md): the file page and PDF reach points and honours only
    through the registry."""
    for path in [SRC / "members" / "views.py", SRC / "members" / "pdf.py"]:
        source = path.read_text()
        assert not re.search(
            r"hongfeng\.(points|honours)|from hongfeng import (points|honours)", source
        ), path
    for template in (SRC / "members" / "templates").rglob("*.html"):
        assert not re.search(r"\{% url '(points|honours):", template.read_text()), template
