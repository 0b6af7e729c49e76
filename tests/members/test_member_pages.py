"""Member pages: list, file, registration, editing, status, reveal, my profile (issue 3), and
实名登记 and 名册导入 reached from the list for those who may, in the unit of their scope."""

import pytest

from hongfeng.audit.models import AuditEvent
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Member


def _text(response) -> str:
    return response.content.decode()


def _zhangsan():
    return Member.objects.get(name="张三")


@pytest.mark.parametrize(
    "who", ["captain", "squad_leader", "group_leader", "station_officer", "county_admin"]
)
def test_list_is_masked_and_bounded(cast, page_as, who, django_assert_max_num_queries):
    client = page_as(who)
    with django_assert_max_num_queries(20):
        response = client.get("/members/?q=zs")
    text = _text(response)
    assert "张三" in text and "139****0033" in text
    assert "13900000033" not in text and VOLUNTEER_ID_NUMBER not in text


def test_list_filters_and_empty_state(cast, page_as):
    client = page_as("captain")
    assert "没有符合条件的队员" in _text(client.get("/members/?q=不存在的人"))
    text = _text(client.get("/members/?status=exited"))
    assert "已退出" in text


@pytest.mark.parametrize("who", ["system_admin", "auditor", "security_admin"])
def test_three_powers_have_no_member_pages(cast, page_as, who):
    assert page_as(who).get("/members/").status_code == 403
    assert page_as(who).get(f"/members/{_zhangsan().pk}/").status_code == 404


def test_file_page_masked_with_reveal(cast, page_as):
    client = page_as("captain")
    member = _zhangsan()
    text = _text(client.get(f"/members/{member.pk}/"))
    assert "3306**********0038" in text and VOLUNTEER_ID_NUMBER not in text
    assert "查看明文" in text and "暂无记录" in text
    response = client.post(
        f"/members/{member.pk}/reveal/",
        {"field": "id_number", "reason": "核对保险信息"},
        HTTP_HX_REQUEST="true",
    )
    assert VOLUNTEER_ID_NUMBER in _text(response)
    assert "no-cache" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="member.revealed").count() == 1
    response = client.post(f"/members/{member.pk}/reveal/", {"field": "id_number", "reason": ""})
    assert VOLUNTEER_ID_NUMBER not in _text(response)


def test_squad_leader_sees_no_reveal_and_is_refused(cast, page_as):
    client = page_as("squad_leader")
    member = _zhangsan()
    assert "查看明文" not in _text(client.get(f"/members/{member.pk}/"))
    response = client.post(
        f"/members/{member.pk}/reveal/", {"field": "mobile", "reason": "想联系一下他"}
    )
    assert response.status_code == 403


def test_register_page(cast, page_as):
    client = page_as("captain")
    group = cast.units["hongfeng_group2"]
    response = client.post(
        f"/members/new/?unit={group.pk}",
        {
            "name": "李四",
            "id_number": "11010519491231002x",
            "mobile": "13612345678",
            "political_status": "masses",
            "category": "student",
            "skills": ["first_aid"],
            "health_fit": "on",
            "consent": "on",
        },
    )
    assert response.status_code == 302, _text(response)[:3000]
    member = Member.objects.get(name="李四")
    assert member.user.consents.get().text_version == "2026-11"
    response = client.post(
        f"/members/new/?unit={group.pk}",
        {
            "name": "王五",
            "id_number": "11010519491231002X",
            "mobile": "13612345679",
            "political_status": "masses",
            "category": "student",
            "consent": "on",
        },
    )
    assert "同一人不能重复登记" in _text(response)
    assert 'value="王五"' in _text(response)


def test_register_needs_consent_and_scope(cast, page_as):
    client = page_as("captain")
    group = cast.units["hongfeng_group2"]
    response = client.post(
        f"/members/new/?unit={group.pk}",
        {
            "name": "李四",
            "id_number": "11010519491231002X",
            "mobile": "13612345678",
            "political_status": "masses",
            "category": "student",
        },
    )
    assert response.status_code == 200 and not Member.objects.filter(name="李四").exists()
    assert page_as("group_leader").get(f"/members/new/?unit={group.pk}").status_code in (403, 404)


def test_edit_status_and_records(cast, page_as):
    client = page_as("captain")
    member = _zhangsan()
    response = client.post(
        f"/members/{member.pk}/edit/",
        {
            "political_status": "party_member",
            "category": "enterprise",
            "skills": ["law"],
            "address": "枫桥镇",
            "emergency_contact": "张母",
            "emergency_mobile": "15800001111",
            "health_fit": "on",
            "health_declaration": "健康",
            "version": member.version,
        },
    )
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.is_party_member and member.health_declaration == "健康"
    response = client.post(
        f"/members/{member.pk}/status/", {"status": "core", "reason": "表现突出"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/members/{member.pk}/certificate/new/",
        {
            "name": "救护员证",
            "issuer": "红十字会",
            "issued_on": "2026-01-01",
            "expires_on": "2025-01-01",
        },
    )
    assert "有效期不能早于发证日期" in _text(response)
    response = client.post(
        f"/members/{member.pk}/insurance/new/",
        {
            "insurer": "人寿",
            "policy_number": "P1",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
        },
    )
    assert response.status_code == 302
    response = client.post(
        f"/members/{member.pk}/equipment/new/", {"kind": "radio", "issued_on": "2026-01-01"}
    )
    assert response.status_code == 302
    issue = member.equipment.filter(kind="radio", returned_on__isnull=True).latest("id")
    client.post(f"/members/{member.pk}/equipment/{issue.pk}/return/")
    issue.refresh_from_db()
    assert issue.returned_on is not None


def test_status_page_offers_only_allowed_transitions(cast, page_as):
    member = Member.objects.filter(status="probation").first()
    text = _text(page_as("captain").get(f"/members/{member.pk}/status/"))
    assert ">在队<" in text and ">核心队员<" not in text


def test_my_profile(cast, page_as):
    client = page_as("volunteer")
    text = _text(client.get("/members/me/"))
    assert VOLUNTEER_ID_NUMBER in text and "13900000033" in text
    response = client.post(
        "/members/me/",
        {"address": "枫桥镇新址", "emergency_contact": "张母", "emergency_mobile": "158"},
    )
    assert "请输入正确的11位手机号码" in _text(response)
    response = client.post(
        "/members/me/",
        {"address": "枫桥镇新址", "emergency_contact": "张母", "emergency_mobile": "15800001111"},
    )
    assert response.status_code == 302
    assert _zhangsan().address == "枫桥镇新址"


def test_no_file_page(cast, page_as):
    assert "还没有队员档案" in _text(page_as("county_admin").get("/members/me/"))


def test_home_counts_members(cast, page_as):
    text = _text(page_as("captain").get("/"))
    team = cast.units["hongfeng"]
    assert f"/members/?unit={team.pk}&amp;status=serving" in text
    assert "在册队员" in text


def test_member_file_pdf(cast, page_as):
    """A real PDF with the Chinese text in it (Noto CJK), masked for others, audited."""
    import io

    from pypdf import PdfReader

    member = _zhangsan()
    response = page_as("captain").get(f"/members/{member.pk}/file.pdf")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(page.extract_text() for page in reader.pages)
    assert "队员档案" in text and "张三" in text
    assert "3306**********0038" in text and VOLUNTEER_ID_NUMBER not in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = [str(fonts[key].get_object()["/BaseFont"]) for key in fonts]
    assert any("CJK" in name for name in names), names  # real glyphs, not boxes
    assert AuditEvent.objects.filter(action="member.pdf_exported").count() == 1
    own = page_as("volunteer").get(f"/members/{member.pk}/file.pdf")
    own_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(own.content)).pages)
    assert VOLUNTEER_ID_NUMBER in own_text
    assert page_as("outside_captain").get(f"/members/{member.pk}/file.pdf").status_code == 404


def _jpeg_with_gps() -> bytes:
    """A real JPEG carrying EXIF with a GPS position, as phones make them."""
    import io

    from PIL import Image

    image = Image.new("RGB", (1200, 1600), (200, 40, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (29.0, 42.0, 0.0), 3: "E", 4: (120.0, 14.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    return tmp_path


def test_photo_is_reencoded_without_metadata(
    cast, page_as, media_root, django_capture_on_commit_callbacks
):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    member = _zhangsan()
    original = _jpeg_with_gps()
    assert b"PhoneMaker" in original
    client = page_as("volunteer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/members/{member.pk}/photo/",
            {"photo": SimpleUploadedFile("me.jpg", original, "image/jpeg"), "back": "me"},
        )
    assert response.url == "/members/me/"
    served = page_as("captain").get(f"/members/{member.pk}/photo.jpg")
    assert served["Content-Type"] == "image/jpeg"
    assert b"PhoneMaker" not in served.content
    with Image.open(io.BytesIO(served.content)) as image:
        assert not image.getexif() and max(image.size) <= 800
    assert page_as("outside_captain").get(f"/members/{member.pk}/photo.jpg").status_code == 404
    assert AuditEvent.objects.filter(action="member.photo_updated").count() == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"GIF89a" + b"\x00" * 100, "无法识别"), (b"not an image", "无法识别"), (b"", "请选择照片")],
)
def test_bad_photos(cast, media_root, content, message):
    from hongfeng.core.errors import DomainError
    from hongfeng.members import services

    with pytest.raises(DomainError) as exc:
        services.set_photo(actor=cast.users["captain"], member=_zhangsan(), content=content)
    assert message in exc.value.message


def test_move_partner_and_certificate_removal(cast, page_as):
    from hongfeng.accounts.models import RoleAssignment

    client = page_as("captain")
    member = _zhangsan()
    page = client.get(f"/members/{member.pk}/").content.decode()
    assert "调整所在单位" in page and "保存结对" in page
    target = cast.units["hongfeng_group3"]
    client.post(f"/members/{member.pk}/move/", {"unit": target.pk})
    member.refresh_from_db()
    assert member.unit == target
    roles = RoleAssignment.objects.filter(user=member.user).order_by("id")
    assert [(r.unit_id, r.is_active) for r in roles] == [
        (cast.units["hongfeng_group1"].pk, False),
        (target.pk, True),
    ]
    outside = client.post(f"/members/{member.pk}/move/", {"unit": cast.units["xihu_team"].pk})
    assert outside.status_code == 404
    newcomer = Member.objects.filter(status="probation").first()
    client.post(f"/members/{newcomer.pk}/partner/", {"partner": ""})
    newcomer.refresh_from_db()
    assert newcomer.partner is None
    from hongfeng.members import services

    certificate = services.add_certificate(
        actor=cast.users["captain"], member=member, name="救护员证", issuer="红十字会"
    )
    client.post(f"/members/{member.pk}/certificates/{certificate.pk}/remove/")
    assert not member.certificates.exists()
    assert AuditEvent.objects.filter(action="member.certificate_removed").exists()


class TestRegisterAndImportFromTheSidebar:
    def test_the_list_offers_them_to_those_who_may(self, cast, page_as):
        captain = _text(page_as("captain").get("/members/"))
        assert 'href="/members/new/"' in captain and 'href="/members/roster/"' in captain
        squad = _text(page_as("squad_leader").get("/members/"))
        assert 'href="/members/new/"' in squad and "/members/roster/" not in squad
        station = _text(page_as("station_officer").get("/members/"))
        assert "/members/new/" not in station and "/members/roster/" not in station

    def test_the_unit_is_picked_from_the_users_scope(self, cast, page_as):
        county = page_as("county_admin")
        text = _text(county.get("/members/new/"))
        assert "登记到哪个单位" in text and "红枫义警总队 · 第一分队 · 第一小组" in text
        assert "柯桥义警总队" not in text  # another county
        text = _text(county.get("/members/roster/"))
        assert "红枫义警总队" in text and "暨阳义警总队" in text and "第一小组" not in text
        group = cast.units["hongfeng_group1"]
        assert county.get(f"/members/new/?unit={group.pk}").status_code == 200

    def test_one_team_goes_straight_to_it(self, cast, page_as):
        response = page_as("captain").get("/members/roster/")
        assert response.status_code == 302
        assert response["Location"].endswith(f"?team={cast.units['hongfeng'].pk}")

    def test_others_are_refused(self, cast, page_as):
        assert page_as("station_officer").get("/members/new/").status_code == 403
        assert page_as("squad_leader").get("/members/roster/").status_code == 403
