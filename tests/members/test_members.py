"""Member files (一人一档, 5.2.7): identity, encryption at rest, masking by role, reveal,
dynamic status, 1+1 pairing, search (issue 3)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Q
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from hongfeng.accounts.models import RoleAssignment
from hongfeng.audit.models import AuditEvent
from hongfeng.core import crypto
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.idnumber import check_character, is_valid_id_number, parse_id_number
from hongfeng.members import services
from hongfeng.members.demo import VOLUNTEER_ID_NUMBER
from hongfeng.members.models import Member, StatusChange

NEW_ID = "11010519491231002X"


def _zhangsan():
    return Member.objects.get(name="张三")


# --- ID numbers (GB 11643) ---------------------------------------------------------------

_first17 = st.builds(
    lambda region, born, seq: f"{region}{born:%Y%m%d}{seq:03d}",
    st.sampled_from(["110105", "330681", "330106", "440305"]),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@given(_first17)
def test_valid_ids_are_accepted(first17):
    number = first17 + check_character(first17)
    info = parse_id_number(number, today=date(2026, 11, 29))
    assert info.number == number
    assert info.birth_date.strftime("%Y%m%d") == first17[6:14]
    assert info.gender == ("male" if int(first17[16]) % 2 else "female")


@given(_first17, st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=9))
def test_any_single_digit_change_is_rejected(first17, position, delta):
    number = first17 + check_character(first17)
    chars = list(number)
    if chars[position] == "X":
        chars[position] = "0"
    else:
        chars[position] = str((int(chars[position]) + delta) % 10)
    changed = "".join(chars)
    if changed[0] == "0":
        changed = "9" + changed[1:] if number[0] != "9" else "8" + changed[1:]
    if changed == number:
        return
    assert not is_valid_id_number(changed)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "请填写身份证号"),
        ("110105491231002", "15位第一代"),
        ("1101051949123100", "应为18位"),
        ("11010519491231002Y", "17位数字"),
        ("110105194913310021", "出生日期"),
        ("110105194912310021", "校验位"),
    ],
)
def test_invalid_ids_say_why(raw, message):
    with pytest.raises(DomainError) as exc:
        parse_id_number(raw)
    assert message in exc.value.message


def test_id_normalisation():
    assert parse_id_number("１１０１０５ １９４９１２３１ ００２ｘ").number == NEW_ID
    assert parse_id_number("110105194912310 02x").number == NEW_ID


# --- encryption at rest (T6) ----------------------------------------------------------------


@pytest.mark.parametrize("cipher", ["aes-256-gcm", "sm4-gcm"])
def test_encryption_round_trip(cipher):
    with override_settings(FIELD_CIPHER=cipher):
        token = crypto.encrypt(NEW_ID, field="members.id_number")
        assert NEW_ID not in token
        assert token.startswith(f"v1${'aes' if cipher.startswith('aes') else 'sm4'}$")
        assert crypto.decrypt(token, field="members.id_number") == NEW_ID
    # the other cipher setting still reads it: values remember their cipher
    assert crypto.decrypt(token, field="members.id_number") == NEW_ID
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, field="members.health")  # bound to its field
    tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, field="members.id_number")
    with (
        override_settings(FIELD_ENCRYPTION_KEY="another-key-0123456789-0123456789"),
        pytest.raises(crypto.DecryptionError),
    ):
        crypto.decrypt(token, field="members.id_number")


def test_blind_index_is_keyed():
    first = crypto.blind_index(NEW_ID, purpose="members.id_number")
    assert first == crypto.blind_index(NEW_ID, purpose="members.id_number")
    with override_settings(BLIND_INDEX_KEY="another-index-key-0123456789-abcdef"):
        assert crypto.blind_index(NEW_ID, purpose="members.id_number") != first


def test_raw_database_holds_no_plaintext_id_number(cast):
    """T6: read every text column of every table as an attacker with a dump would."""
    from hongfeng.core.logscan import scan

    with connection.cursor() as cursor:
        hits = []
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608 — table names from the schema
            for row in cursor.fetchall():
                text = " ".join(str(v) for v in row if isinstance(v, str))
                if any(is_valid_id_number(word) for word in text.split()) or (
                    VOLUNTEER_ID_NUMBER in text
                ):
                    hits.append(table)
    assert hits == []
    assert scan([VOLUNTEER_ID_NUMBER]) != []  # the scanner itself does see a bare number
    assert Member.objects.count() >= 55


# --- registering and editing ----------------------------------------------------------------


def _register(cast, **overrides):
    values = {
        "actor": cast.users["captain"],
        "unit": cast.units["hongfeng_group2"],
        "name": "李四",
        "id_number": NEW_ID,
        "mobile": "13612345678",
    }
    values.update(overrides)
    return services.register_member(**values)


class TestRegister:
    def test_register_creates_file_account_and_role(self, cast):
        member = _register(cast)
        assert member.name_initials == "ls" and member.name_pinyin == "lisi"
        assert member.birth_date == date(1949, 12, 31) and member.gender == "female"
        assert member.id_number == NEW_ID and NEW_ID not in member.id_number_encrypted
        assert RoleAssignment.objects.active().get(user=member.user).role == "volunteer"
        assert StatusChange.objects.get(member=member).to_status == "probation"
        assert AuditEvent.objects.filter(
            action="member.registered", target_id=str(member.pk)
        ).exists()

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"id_number": VOLUNTEER_ID_NUMBER}, "duplicate_person"),  # the same person twice
            ({"mobile": "13900000033"}, "duplicate_mobile"),
            ({"id_number": "110105194912310021"}, "invalid_id_number"),
            ({"mobile": "1361234"}, "invalid_mobile"),
            ({"name": "李4"}, "invalid_name"),
        ],
    )
    def test_bad_input_changes_nothing(self, cast, overrides, code):
        before = (Member.objects.count(), RoleAssignment.objects.count())
        with pytest.raises(DomainError) as exc:
            _register(cast, **overrides)
        assert exc.value.code == code
        assert (Member.objects.count(), RoleAssignment.objects.count()) == before

    def test_archived_unit_and_wrong_kind(self, cast):
        from hongfeng.orgs.models import Unit
        from hongfeng.orgs.services import archive_unit

        admin = cast.users["county_admin"]
        with pytest.raises(DomainError) as exc:
            _register(cast, actor=admin, unit=cast.units["zhuji"])
        assert exc.value.code == "invalid_unit"
        archive_unit(actor=cast.users["captain"], unit=cast.units["hongfeng_group2"])
        with pytest.raises(DomainError) as exc:
            _register(cast, actor=admin, unit=Unit.objects.get(pk=cast.units["hongfeng_group2"].pk))
        assert exc.value.code == "unit_archived"

    def test_outside_scope_is_forbidden(self, cast):
        with pytest.raises(Forbidden):
            _register(cast, actor=cast.users["outside_captain"])
        with pytest.raises(Forbidden):
            _register(cast, actor=cast.users["system_admin"])  # no business personal data

    def test_unknown_skill(self, cast):
        with pytest.raises(DomainError) as exc:
            _register(cast, data=services.MemberData(skills=["juggling"]))
        assert exc.value.code == "unknown_skill"

    def test_update_with_stale_version(self, cast):
        member = _zhangsan()
        changes = {"address": "新地址", "skills": ["first_aid"]}
        services.update_member(
            actor=cast.users["captain"],
            member=member,
            changes=changes,
            expected_version=member.version,
        )
        with pytest.raises(Conflict) as exc:
            services.update_member(
                actor=cast.users["captain"],
                member=member,
                changes={"address": "再改"},
                expected_version=member.version,
            )
        assert exc.value.code == "stale_version"
        event = AuditEvent.objects.filter(action="member.updated").latest("id")
        assert "新地址" not in str(event.summary)  # names of fields, never the values


class TestStatus:
    def test_flow_and_history(self, cast):
        member = _register(cast)
        captain = cast.users["captain"]
        member = services.change_status(
            actor=captain, member=member, to="active", reason="见习期满"
        )
        member = services.change_status(actor=captain, member=member, to="core", reason="表现突出")
        assert [c.to_status for c in member.status_changes.order_by("id")] == [
            "probation",
            "active",
            "core",
        ]
        with pytest.raises(DomainError) as exc:
            services.change_status(actor=captain, member=member, to="probation", reason="回退")
        assert exc.value.code == "invalid_transition"

    def test_exit_ends_team_roles_and_keeps_the_file(self, cast):
        member = _zhangsan()
        services.change_status(
            actor=cast.users["captain"], member=member, to="exited", reason="本人申请退出"
        )
        member.refresh_from_db()
        assert member.status == "exited"
        assert not RoleAssignment.objects.active().filter(user=member.user).exists()
        assert RoleAssignment.objects.filter(user=member.user).exists()  # history kept
        with pytest.raises(DomainError):
            services.change_status(
                actor=cast.users["captain"], member=member, to="active", reason="回来"
            )

    def test_reason_required_and_scope(self, cast):
        member = _zhangsan()
        with pytest.raises(DomainError):
            services.change_status(
                actor=cast.users["captain"], member=member, to="core", reason=" "
            )
        with pytest.raises(Forbidden):
            services.change_status(
                actor=cast.users["group_leader"], member=member, to="core", reason="组长无权"
            )


class TestPartner:
    def test_pairing_rules(self, cast):
        newcomer = _register(cast)
        veteran = Member.objects.filter(status="core").exclude(pk=newcomer.pk).first()
        services.set_partner(actor=cast.users["captain"], member=newcomer, partner=veteran)
        newcomer.refresh_from_db()
        assert newcomer.partner == veteran
        fresh = Member.objects.filter(status="probation").exclude(pk=newcomer.pk).first()
        with pytest.raises(DomainError):
            services.set_partner(actor=cast.users["captain"], member=newcomer, partner=fresh)
        with pytest.raises(DomainError):
            services.set_partner(actor=cast.users["captain"], member=newcomer, partner=newcomer)


class TestReveal:
    def test_captain_reveals_with_reason_and_audit(self, cast):
        value = services.reveal(
            actor=cast.users["captain"],
            member=_zhangsan(),
            field_name="id_number",
            reason="办理保险需要核对",
        )
        assert value == VOLUNTEER_ID_NUMBER
        event = AuditEvent.objects.filter(action="member.revealed").latest("id")
        assert event.summary == {"field": "id_number", "reason": "办理保险需要核对"}

    @pytest.mark.parametrize("who", ["squad_leader", "group_leader", "bureau_officer"])
    def test_others_cannot_reveal(self, cast, who):
        with pytest.raises(Forbidden):
            services.reveal(
                actor=cast.users[who],
                member=_zhangsan(),
                field_name="mobile",
                reason="想看一下号码",
            )

    def test_reason_is_required(self, cast):
        with pytest.raises(DomainError) as exc:
            services.reveal(
                actor=cast.users["captain"], member=_zhangsan(), field_name="mobile", reason="看"
            )
        assert exc.value.code == "reason_required"


def test_own_contact_update_is_audited(cast):
    member = services.update_own_contact(
        user=cast.users["volunteer"],
        address="枫桥镇新地址1号",
        emergency_contact="张母",
        emergency_mobile="15800001111",
    )
    assert member.address == "枫桥镇新地址1号"
    event = AuditEvent.objects.filter(action="member.contact_updated").latest("id")
    assert event.actor_id == cast.users["volunteer"].pk
    with pytest.raises(DomainError):
        services.update_own_contact(
            user=cast.users["volunteer"], address="", emergency_contact="", emergency_mobile="123"
        )


# --- API: fields by role (T3), search, matrix (T2) -----------------------------------------


class TestApiMasking:
    def test_owner_sees_plaintext(self, cast, api_as):
        body = api_as("volunteer").get("/members/me").json()
        assert body["id_number"] == VOLUNTEER_ID_NUMBER
        assert body["mobile"] == "13900000033"
        assert body["health_declaration"] is not None

    @pytest.mark.parametrize(
        "who", ["captain", "squad_leader", "group_leader", "station_officer", "county_admin"]
    )
    def test_everyone_else_sees_masks(self, cast, api_as, who):
        body = api_as(who).get(f"/members/{_zhangsan().pk}").json()
        assert body["id_number"] == "3306**********0038"
        assert body["mobile"] == "139****0033"
        assert body["health_declaration"] is None
        keeper = who in ("captain", "squad_leader", "county_admin")
        assert (body["address"] is not None) == keeper

    def test_reveal_endpoint(self, cast, api_as):
        member = _zhangsan()
        response = api_as("captain").post(
            f"/members/{member.pk}/reveal", {"field": "mobile", "reason": "紧急联系本人"}
        )
        assert response.json() == {"field": "mobile", "value": "13900000033"}
        response = api_as("squad_leader").post(
            f"/members/{member.pk}/reveal", {"field": "mobile", "reason": "紧急联系本人"}
        )
        assert response.status_code == 403

    def test_list_bounded(self, cast, api_as, django_assert_max_num_queries):
        api = api_as("captain")
        with django_assert_max_num_queries(8):
            body = api.get("/members", {"page_size": 50}).json()
        assert (
            body["count"]
            == Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path).count()
        )
        assert all("*" in row["id_number"] for row in body["items"] if row["name"] != "楼红枫")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("zs", "张三"),
        ("zhangsan", "张三"),
        ("张三", "张三"),
        ("0038", "张三"),
        ("0033", "张三"),
        ("13900000033", "张三"),
        (VOLUNTEER_ID_NUMBER, "张三"),
        (VOLUNTEER_ID_NUMBER.lower(), "张三"),
    ],
)
def test_search(cast, api_as, q, expected):
    names = [m["name"] for m in api_as("captain").get("/members", {"q": q}).json()["items"]]
    assert expected in names


def test_search_filters(cast, api_as):
    api = api_as("captain")
    assert {m["status"] for m in api.get("/members", {"status": "core"}).json()["items"]} == {
        "core"
    }
    students = api.get("/members", {"category": "student"}).json()["items"]
    assert students and {m["category"] for m in students} == {"student"}
    aiders = api.get("/members", {"skill": "first_aid", "page_size": 100}).json()["items"]
    assert aiders and all("first_aid" in [s["code"] for s in m["skills"]] for m in aiders)
    squad = cast.units["hongfeng_squad2"]
    rows = api.get("/members", {"unit_id": squad.pk, "page_size": 100}).json()["items"]
    assert rows and all(m["unit"]["id"] != cast.units["hongfeng_group1"].pk for m in rows)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("captain", 200),
        ("squad_leader", 200),
        ("group_leader", 200),
        ("volunteer", 200),
        ("station_officer", 200),
        ("bureau_officer", 200),
        ("county_admin", 200),
        ("province_admin", 200),
        ("outsider", 404),
        ("outside_captain", 404),
        ("sibling_captain", 404),
        ("system_admin", 404),
        ("security_admin", 404),
        ("auditor", 404),
    ],
)
def test_member_detail_matrix(cast, api_as, who, status):
    assert api_as(who).get(f"/members/{_zhangsan().pk}").status_code == status


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("captain", 200),
        ("squad_leader", 200),
        ("county_admin", 200),
        ("group_leader", 403),
        ("station_officer", 403),
        ("volunteer", 403),
        ("outsider", 404),
        ("system_admin", 404),
    ],
)
def test_member_status_matrix(cast, api_as, who, status):
    member = _zhangsan()
    response = api_as(who).post(
        f"/members/{member.pk}/status", {"status": "core", "reason": "矩阵测试"}
    )
    assert response.status_code == status
    member.refresh_from_db()
    assert (member.status == "core") == (status == 200)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("captain", 201),
        ("squad_leader", 201),
        ("county_admin", 201),
        ("group_leader", 403),
        ("station_officer", 403),
        ("outsider", 404),
        ("system_admin", 403),  # sees the unit, may not register people
    ],
)
def test_member_register_matrix(cast, api_as, who, status):
    response = api_as(who).post(
        "/members",
        {
            "unit_id": cast.units["hongfeng_group1"].pk,
            "name": "王五",
            "id_number": NEW_ID,
            "mobile": "13612345678",
            "skills": ["first_aid"],
            "consent": True,
        },
    )
    assert response.status_code == status, response.json()
    assert Member.objects.filter(name="王五").exists() == (status == 201)


def test_other_team_members_never_listed(cast, api_as):
    names = {m["name"] for m in api_as("outside_captain").get("/members").json()["items"]}
    assert "张三" not in names


def test_insurance_and_pairing_shown_in_file(cast, api_as):
    member = Member.objects.filter(partner__isnull=False).first()
    body = api_as("captain").get(f"/members/{member.pk}").json()
    assert body["partner"]["id"] == member.partner_id
    from django.db.models import Sum

    from hongfeng.points.models import PointsEntry

    earned = PointsEntry.objects.filter(member=member).aggregate(e=Sum("earned"))["e"] or 0
    assert Decimal(body["points"]) == earned  # the ledger, nothing invented
    from django.db.models import Sum

    from hongfeng.activities.models import HoursEntry

    settled = HoursEntry.objects.filter(member=member).aggregate(h=Sum("hours"))["h"] or 0
    assert Decimal(body["service_hours"]) == settled  # the hours ledger, nothing invented
    insured = Member.objects.filter(insurances__isnull=False).first()
    policies = api_as("captain").get(f"/members/{insured.pk}").json()["insurances"]
    assert policies and policies[0]["policy_number"].startswith("YW2026")


def test_api_move_and_photo(cast, api_as, settings, tmp_path):
    """T5 for the two multipart/extra member writes: both leave audit rows."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    api = api_as("captain")
    member = _zhangsan()
    response = api.post(f"/members/{member.pk}/move", {"unit_id": cast.units["hongfeng_group2"].pk})
    assert response.status_code == 200 and response.json()["unit"]["name"] == "第二小组"
    buffer = io.BytesIO()
    Image.new("RGB", (50, 50)).save(buffer, format="PNG")
    response = api.client.post(
        f"/api/v1/members/{member.pk}/photo",
        {"photo": SimpleUploadedFile("a.png", buffer.getvalue())},
    )
    assert response.status_code == 200 and response.json()["has_photo"] is True
    actions = set(
        AuditEvent.objects.filter(target_id=str(member.pk)).values_list("action", flat=True)
    )
    assert {"member.moved", "member.photo_updated"} <= actions
    other_team = api.post(f"/members/{member.pk}/move", {"unit_id": cast.units["xihu_team"].pk})
    assert other_team.status_code == 404


# T2 for the remaining member endpoints: who may do what to 张三's file (a 队员 of 第一小组).
_ROLES = [
    "captain",
    "squad_leader",
    "group_leader",
    "volunteer",
    "station_officer",
    "county_admin",
    "outsider",
    "system_admin",
]
_MATRIX = {
    # endpoint: expected status per role above
    "put": [200, 200, 403, 403, 403, 200, 404, 404],
    "reveal": [200, 403, 403, 200, 200, 200, 404, 404],
    "move": [200, 200, 404, 404, 403, 200, 404, 404],  # the target group lies outside some reaches
    "pdf": [200, 200, 200, 200, 200, 200, 404, 404],
}


@pytest.mark.parametrize("endpoint", list(_MATRIX))
@pytest.mark.parametrize("who", _ROLES)
def test_member_endpoint_matrix(cast, api_as, page_as, endpoint, who):
    member = _zhangsan()
    expected = _MATRIX[endpoint][_ROLES.index(who)]
    api = api_as(who)
    if endpoint == "put":
        response = api.patch(
            f"/members/{member.pk}", {"version": member.version, "address": "矩阵测试"}
        )
    elif endpoint == "reveal":
        response = api.post(
            f"/members/{member.pk}/reveal", {"field": "mobile", "reason": "矩阵测试原因"}
        )
    elif endpoint == "move":
        response = api.post(
            f"/members/{member.pk}/move", {"unit_id": cast.units["hongfeng_group2"].pk}
        )
    else:
        response = page_as(who).get(f"/members/{member.pk}/file.pdf")
    assert response.status_code == expected, (who, endpoint, response.content[:200])


class TestOwnFileInLists:
    """A list of member files is "the reach, plus my own file"; the "plus" is an OR across the
    unit join that PostgreSQL applies only by reading every file, so it is added only when the
    own file lies outside the reach (found by `python -m bench` at province scale)."""

    @staticmethod
    def _where(user) -> str:
        return str(Member.objects.visible_to(user).query).split(" WHERE ", 1)[1]

    def test_captain_own_file_in_reach_needs_no_or(self, cast):
        captain = cast.users["captain"]
        assert Member.objects.filter(user=captain).exists()
        assert '"members_member"."user_id"' not in self._where(captain)
        assert Member.objects.visible_to(captain).filter(user=captain).exists()

    def test_admin_without_a_file_needs_no_or(self, cast):
        admin = cast.users["county_admin"]
        assert not Member.objects.filter(user=admin).exists()
        assert '"members_member"."user_id"' not in self._where(admin)

    def test_own_file_outside_reach_is_still_listed(self, cast):
        volunteer = cast.users["volunteer"]
        elsewhere = cast.units["keqiao_team"]
        RoleAssignment.objects.create(user=volunteer, role="group_leader", unit=elsewhere)
        own = Member.objects.get(user=volunteer)
        reach = Member.objects.filter(unit__path__startswith=elsewhere.path)
        visible = set(Member.objects.visible_to(volunteer).values_list("pk", flat=True))
        assert visible == {*reach.values_list("pk", flat=True), own.pk}
        assert '"members_member"."user_id"' in self._where(volunteer)

    def test_roles_changed_in_the_request_are_seen(self, cast):
        from hongfeng.accounts import access

        volunteer = cast.users["volunteer"]
        assert access.own_file_in_reach(volunteer, "members.view") is False
        RoleAssignment.objects.create(
            user=volunteer, role="group_leader", unit=cast.units["hongfeng_group1"]
        )
        access.forget(volunteer)
        assert access.own_file_in_reach(volunteer, "members.view") is True


def test_member_list_pages_in_name_order(cast, api_as):
    """The list fetches each page's ids first, then their rows (IdsFirstPagination): pages
    follow the (name, id) order without gaps or repeats, and the count is the whole reach."""
    api = api_as("captain")
    expected = list(
        Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
        .order_by("name", "id")
        .values_list("pk", flat=True)
    )
    seen = []
    for page in (1, 2, 3):
        body = api.get("/members", {"page_size": 3, "page": page}).json()
        assert body["count"] == len(expected)
        seen += [row["id"] for row in body["items"]]
    assert seen == expected[:9]


def test_search_pages_in_name_order_with_count(cast, api_as):
    """A search gathers its hits before sorting them on PostgreSQL (IdsFirstPagination's
    `filter_first`, with the count from the same query): the pages and the count are the same
    as the plain list's, and a page past the end still carries the count."""
    from hongfeng.members.selectors import search_filter

    api = api_as("captain")
    reach = Member.objects.filter(unit__path__startswith=cast.units["hongfeng"].path)
    q = max(
        "abcdefghjklmnopqrstwxyz", key=lambda letter: reach.filter(search_filter(letter)).count()
    )
    expected = list(
        reach.filter(search_filter(q)).order_by("name", "id").values_list("pk", flat=True)
    )
    assert len(expected) >= 3
    seen = []
    for page in range(1, len(expected) // 2 + 2):
        body = api.get("/members", {"q": q, "page_size": 2, "page": page}).json()
        assert body["count"] == len(expected)
        seen += [row["id"] for row in body["items"]]
    assert seen == expected
    past = api.get("/members", {"q": q, "page_size": 2, "page": 50}).json()
    assert past == {"items": [], "count": len(expected)}


@pytest.mark.parametrize("q", [None, "zs", "0" * 50])
def test_list_with_a_reach_of_nothing(cast, api_as, q):
    """Someone whose roles reach no member file (a security admin) and who has none of their
    own gets an empty page, listed or searched — not a server error (found by the API fuzzer:
    Django refuses to compile a filter that is empty by construction, which the page's count
    and the search's hits-first query compile)."""
    params = {"page_size": 1} | ({"q": q} if q else {})
    response = api_as("security_admin").get("/members", params)
    assert response.status_code == 200, response.content
    assert response.json() == {"items": [], "count": 0}


class TestLargeCounts:
    """A count of at least LARGE_COUNT rows is kept for a minute per process (core.pagination
    .count_of): province-wide totals, not a captain's roster."""

    @pytest.fixture(autouse=True)
    def _clean_cache(self):
        from django.core.cache import cache

        cache.clear()
        yield
        cache.clear()

    def test_large_count_is_kept(self, cast, monkeypatch):
        from hongfeng.core import pagination
        from hongfeng.members.models import Skill

        monkeypatch.setattr(pagination, "LARGE_COUNT", 1)
        before = pagination.count_of(Skill.objects.all())
        Skill.objects.create(code="bench_x", name="计数测试")
        assert pagination.count_of(Skill.objects.all()) == before
        assert pagination.count_of(Skill.objects.filter(code__startswith="b")) == (
            Skill.objects.filter(code__startswith="b").count()
        )

    def test_small_count_is_always_fresh(self, cast):
        from hongfeng.core import pagination
        from hongfeng.members.models import Skill

        before = pagination.count_of(Skill.objects.all())
        Skill.objects.create(code="bench_y", name="计数测试二")
        assert pagination.count_of(Skill.objects.all()) == before + 1


@pytest.mark.parametrize("who", ["station_officer", "bureau_officer"])
def test_guided_reach(cast, who):
    """A guided reach (a station's: a list of unit ids; a bureau's: a union of subqueries) is
    exactly the subtree, the teams guided by a station in it and everything in those teams —
    and a unit created in the same request is in it at once (the kept reach is dropped)."""
    from hongfeng.accounts import access
    from hongfeng.orgs.models import Unit

    user = cast.users[who]
    anchor = next(a.unit for a in access.assignments(user) if a.unit_id)

    def by_definition():
        return set(
            Unit.objects.filter(
                Q(path__startswith=anchor.path)
                | Q(guiding_station__path__startswith=anchor.path)
                | Q(team__guiding_station__path__startswith=anchor.path)
            ).values_list("pk", flat=True)
        )

    def reach():
        return set(
            Unit.objects.filter(access.scope_q(user, "members.view")).values_list("pk", flat=True)
        )

    subtree = Unit.objects.filter(path__startswith=anchor.path).values_list("pk", flat=True)
    assert by_definition() - set(subtree)  # it does reach guided teams
    assert reach() == by_definition()
    team = cast.units["hongfeng"]
    squad = Unit.objects.create(
        name="新建分队", kind="squad", parent=team, team=team, path="", depth=team.depth + 1
    )
    squad.path = f"{team.path}{squad.pk}/"
    squad.save(update_fields=["path"])
    assert squad.pk in reach()
    assert reach() == by_definition()


def test_a_guided_reach_is_worked_out_once_per_request_until_units_change(
    cast, django_assert_num_queries
):
    """A station officer's reach is one query the first time in a request and none after; a
    team handed to their station in the same request (an UPDATE, no signal) is in it at once."""
    from hongfeng.accounts import access
    from hongfeng.orgs import services as orgs
    from hongfeng.orgs.models import Unit

    user = cast.users["station_officer"]
    access.assignments(user)  # the roles are read once per request anyway
    with django_assert_num_queries(1):
        first = Unit.objects.filter(access.scope_q(user, "members.view"))
        access.scope_q(user, "orgs.view")
    with django_assert_num_queries(0):
        access.scope_q(user, "members.view")
    station = next(a.unit for a in access.assignments(user) if a.unit_id)
    elsewhere = Unit.objects.filter(kind="team").exclude(pk__in=first.values("pk")).first()
    orgs.change_guiding_station(actor=cast.users["system_admin"], team=elsewhere, station=station)
    assert elsewhere.pk in set(
        Unit.objects.filter(access.scope_q(user, "members.view")).values_list("pk", flat=True)
    )
