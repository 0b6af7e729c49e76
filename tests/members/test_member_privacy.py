"""Personal data in a member file stays with those allowed to see it: an exact ID or mobile
number cannot be confirmed by searching without the right to reveal it, the birth date is the
owner's, and an editor without reveal neither sees nor overwrites the private fields (5.2.7)."""

from hongfeng.members import services
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Member


def _zhangsan():
    return Member.objects.get(name="张三")


def test_exact_number_search_needs_reveal(cast, api_as):
    """With the mask (3306…0038) and an exact-match search, guesses could be confirmed."""
    for q in (VOLUNTEER_ID_NUMBER, "13900000033"):
        names = [
            m["name"] for m in api_as("group_leader").get("/members", {"q": q}).json()["items"]
        ]
        assert names == []
        names = [m["name"] for m in api_as("captain").get("/members", {"q": q}).json()["items"]]
        assert names == ["张三"]


def test_birth_date_only_for_the_owner(cast, api_as):
    member = _zhangsan()
    assert api_as("captain").get(f"/members/{member.pk}").json()["birth_date"] is None
    assert api_as("volunteer").get("/members/me").json()["birth_date"] == "1990-03-15"


def test_edit_form_hides_private_fields_from_keepers_without_reveal(cast, page_as):
    member = _zhangsan()
    services.update_own_contact(
        user=cast.users["volunteer"],
        address="枫桥镇",
        emergency_contact="张母",
        emergency_mobile="13566667777",
    )
    page = page_as("squad_leader").get(f"/members/{member.pk}/edit/").content.decode()
    assert "13566667777" not in page and "健康声明" not in page
    assert "健康声明" in page_as("captain").get(f"/members/{member.pk}/edit/").content.decode()


def test_partial_update_keeps_what_the_editor_cannot_see(cast, api_as):
    member = _zhangsan()
    before = member.health_declaration
    services.update_own_contact(
        user=cast.users["volunteer"],
        address="枫桥镇",
        emergency_contact="张母",
        emergency_mobile="13566667777",
    )
    member.refresh_from_db()
    response = api_as("squad_leader").patch(
        f"/members/{member.pk}", {"version": member.version, "category": "student"}
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.category == "student"
    assert member.health_declaration == before and member.emergency_mobile == "13566667777"
    denied = api_as("squad_leader").patch(
        f"/members/{member.pk}", {"version": member.version, "health_declaration": "无"}
    )
    assert denied.status_code == 403
