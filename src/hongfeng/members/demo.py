"""Demo member files for the 红枫义警总队: about sixty people covering every status, category
and skill, with certificates, insurance, equipment and 1+1 partners (5.2.6, 5.2.7, 5.4.3,
5.4.6, 6.1.3). Deterministic: the same names and numbers every time."""

import random
from datetime import date, timedelta

from django.utils import timezone

from hongfeng.core.idnumber import check_character
from hongfeng.core.workbooks import Column, Kind, WorkbookWriter
from hongfeng.members import services
from hongfeng.members.catalogue import SKILLS
from hongfeng.members.models import Category, EquipmentKind, MemberStatus, PoliticalStatus, Skill

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余"
    "杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦傅方白邹孟熊秦邱江尹薛闫段雷侯龙"
    "史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤楼宣斯"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子"
    "涵欣怡晨阳文博雨轩思远嘉豪婷婷佳琪俊杰立新春生小龙晓东亚平永刚德胜"
)
# People already in the cast get their files too (key, name, mobile, unit key, status).
CAST_MEMBERS = [
    ("captain", "楼红枫", "13900000030", "hongfeng", MemberStatus.CORE),
    ("squad_leader", "何一队", "13900000031", "hongfeng_squad1", MemberStatus.CORE),
    ("group_leader", "蒋一组", "13900000032", "hongfeng_group1", MemberStatus.CORE),
    ("volunteer", "张三", "13900000033", "hongfeng_group1", MemberStatus.ACTIVE),
]
# 张三's number is fixed so the README and tests can refer to it.
VOLUNTEER_ID_NUMBER = "330681199003150038"


def make_id_number(rng: random.Random, born: date, male: bool) -> str:
    """A valid (checksummed) ID number from 诸暨 (330681) for the demo."""
    sequence = rng.randrange(10, 99) * 10 + (
        rng.choice([1, 3, 5, 7, 9]) if male else rng.choice([0, 2, 4, 6, 8])
    )
    first17 = f"330681{born:%Y%m%d}{sequence:03d}"
    return first17 + check_character(first17)


def _person(rng: random.Random, index: int) -> tuple[str, str, date, bool]:
    name = rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))
    born = date(rng.randrange(1962, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
    return name, f"1370000{index:04d}", born, rng.random() < 0.6


# (status, how many): every status of 5.2.7 appears.
_STATUS_PLAN = [
    (MemberStatus.CORE, 10),
    (MemberStatus.ACTIVE, 26),
    (MemberStatus.PROBATION, 8),
    (MemberStatus.INACTIVE, 4),
    (MemberStatus.DEMOTED, 2),
    (MemberStatus.SUSPENDED, 2),
    (MemberStatus.EXITED, 3),
]


# The demo team's squads and groups, where the generated members serve.
_UNITS = (
    "hongfeng_group1",
    "hongfeng_group2",
    "hongfeng_group3",
    "hongfeng_group4",
    "hongfeng_squad1",
    "hongfeng_squad2",
)


def build(cast) -> None:
    """Member files for the demo team; `cast` is hongfeng.core.demo's Cast. One random sequence
    runs through every step in a fixed order, so the demo is the same every time."""
    rng = random.Random(2026)  # noqa: S311 — demo data, deterministic on purpose
    for code, label in SKILLS:  # a flushed test database has lost the migration's rows
        Skill.objects.get_or_create(code=code, defaults={"name": label})
    skills = [code for code, _ in SKILLS]
    today = timezone.localdate()
    members = _cast_files(rng, cast, skills)
    members += _team_files(rng, cast, skills, today)
    _extras(rng, cast.users["captain"], members, today)


def _cast_files(rng, cast, skills: list[str]) -> list:
    """The cast's own files: the three leaders are core party members, 张三 an active one."""
    members = []
    for i, (key, name, mobile, unit_key, status) in enumerate(CAST_MEMBERS):
        born = date(1975 + i * 5, 3 + i, 10 + i)
        number = VOLUNTEER_ID_NUMBER if key == "volunteer" else make_id_number(rng, born, True)
        members.append(
            services.register_member(
                actor=cast.users["captain"],
                unit=cast.units[unit_key],
                name=name,
                id_number=number,
                mobile=mobile,
                joined_on=date(2019 + i, 4, 1),
                status=status,
                reason="演示数据",
                data=services.MemberData(
                    address="浙江省诸暨市枫桥镇",
                    emergency_contact="家属",
                    category=Category.OTHER,
                    political_status=PoliticalStatus.PARTY_MEMBER
                    if i < 3
                    else PoliticalStatus.MASSES,
                    skills=[skills[i], skills[i + 4]],
                ),
            )
        )
    return members


def _team_files(rng, cast, skills: list[str], today: date) -> list:
    """Generated people, as many in each status as _STATUS_PLAN says."""
    units = [cast.units[k] for k in _UNITS]
    members = []
    index = 0
    for status, count in _STATUS_PLAN:
        for _ in range(count):
            index += 1
            member = _team_file(rng, cast.users["captain"], units, skills, today, index, status)
            members.append(member)
    return members


def _team_file(rng, captain, units, skills: list[str], today: date, index: int, status: str):
    """One generated person. A status reached after serving (inactive, demoted, suspended,
    exited) is registered active and then changed, with its reason in the history."""
    name, mobile, born, male = _person(rng, index)
    joined = today - timedelta(days=rng.randrange(20, 2200))
    initial = MemberStatus.ACTIVE if status in _REASONS else status
    if status == MemberStatus.PROBATION:
        joined = today - timedelta(days=rng.randrange(5, 150))
    member = services.register_member(
        actor=captain,
        unit=rng.choice(units),
        name=name,
        id_number=make_id_number(rng, born, male),
        mobile=mobile,
        joined_on=joined,
        status=initial,
        reason="演示数据",
        data=services.MemberData(
            address=f"浙江省诸暨市枫桥镇{rng.choice('东南西北')}村{rng.randrange(1, 99)}号",
            emergency_contact=rng.choice(_SURNAMES) + "女士",
            emergency_mobile=f"1580000{index:04d}",
            health_fit=rng.random() > 0.05,
            health_declaration=rng.choice(["身体健康", "高血压，已控制", "无"]),
            political_status=rng.choice(PoliticalStatus.values),
            category=Category.values[index % len(Category.values)],
            skills=rng.sample(skills, rng.choice([0, 1, 1, 2, 3])),
        ),
    )
    if status != initial:
        member = services.change_status(
            actor=captain, member=member, to=status, reason=_REASONS[status]
        )
    return member


_REASONS = {
    MemberStatus.INACTIVE: "连续30天无签到记录（5.2.7）",
    MemberStatus.DEMOTED: "长期未参加活动，经总队研究降级",
    MemberStatus.SUSPENDED: "因工作调动暂停服务",
    MemberStatus.EXITED: "本人申请退出",
}


def _extras(rng, captain, members, today) -> None:
    serving = [m for m in members if m.status != MemberStatus.EXITED]
    veterans = [
        m
        for m in serving
        if m.status in (MemberStatus.ACTIVE, MemberStatus.CORE) and (today - m.joined_on).days > 200
    ]
    for member in serving:
        if member.status == MemberStatus.PROBATION and veterans:
            services.set_partner(actor=captain, member=member, partner=rng.choice(veterans))
        if rng.random() < 0.85:
            ends = today + timedelta(days=rng.randrange(-20, 330))
            services.add_insurance(
                actor=captain,
                member=member,
                insurer="中国人寿诸暨支公司",
                policy_number=f"YW2026{member.pk:06d}",
                starts_on=ends - timedelta(days=365),
                ends_on=ends,
            )
        if rng.random() < 0.7:
            services.issue_equipment(
                actor=captain, member=member, kind=EquipmentKind.UNIFORM, issued_on=member.joined_on
            )
            services.issue_equipment(
                actor=captain,
                member=member,
                kind=rng.choice([EquipmentKind.SHOULDER_LIGHT, EquipmentKind.RADIO]),
                issued_on=member.joined_on,
            )
    for member in rng.sample(serving, 8):
        services.add_certificate(
            actor=captain,
            member=member,
            name=rng.choice(["红十字救护员证", "水上救生员证", "人民调解员证", "心理咨询师证"]),
            issuer="浙江省红十字会",
            number=f"ZJ{member.pk:05d}",
            issued_on=date(2023, 6, 1),
            expires_on=date(2027, 5, 31),
        )


CHARTER = {
    "joining_conditions": (
        "1. 年满18周岁，具有完全民事行为能力，遵守法律法规和社会公德；\n"
        "2. 身体健康，热心公益，能保证每月参加不少于一次服务活动；\n"
        "3. 无违法犯罪记录，经实名登记并通过审核；\n"
        "4. 认同本章程，自愿参加岗前培训（不少于两次，每次半天）。"
    ),
    "rights_and_duties": (
        "权利：参加培训与活动，获得服务时长记录、积分与荣誉，享受人身意外保险，"
        "对队伍工作提出意见和建议。\n"
        "义务：服从统一指挥，在授权范围内开展服务，保守工作中知悉的秘密和个人信息，"
        "爱护装备，按时签到签退。"
    ),
    "exit_rules": (
        "队员可书面申请退出；连续30天无服务记录的降级并提醒，60天无服务记录的由总队长确认退出；"
        "严重违反行为规范的，经警告仍不改正的予以除名。退出后档案保留，可重新申请加入。"
    ),
    "code_of_conduct": (
        "着装规范、文明用语；不得以义警名义从事与服务无关的活动；"
        "不得超越授权执法；遇重大警情立即报告派出所；保护群众隐私。"
    ),
}

# (name, ID birth date, male, mobile, status, reason)
_APPLICANTS = [
    ("赵晓东", date(1995, 4, 12), True, "13700009001", None, ""),
    ("钱佳琪", date(2001, 9, 3), False, "13700009002", None, ""),
    ("孙志红", date(1988, 1, 20), False, "13700009003", None, ""),
    (
        "李立新",
        date(1970, 6, 30),
        True,
        "13700009004",
        "rejected",
        "年龄与身体状况不适合水上救援岗位，建议改报防范宣传岗位后重新申请",
    ),
]


def build_recruitment(cast) -> None:
    """Charters for two teams and a few applications waiting in the review queue."""
    from hongfeng.core.demo import DEMO_PASSWORD
    from hongfeng.members.services import publish_charter, reject_application, submit_application

    rng = random.Random(7)  # noqa: S311 — demo data
    hongfeng = cast.units["hongfeng"]
    publish_charter(actor=cast.users["captain"], team=hongfeng, **CHARTER)
    publish_charter(actor=cast.users["sibling_captain"], team=cast.units["keqiao_team"], **CHARTER)
    for name, born, male, mobile, status, reason in _APPLICANTS:
        application = submit_application(
            team=hongfeng,
            preferred_unit=cast.units["hongfeng_squad2"],
            name=name,
            id_number=make_id_number(rng, born, male),
            mobile=mobile,
            password=DEMO_PASSWORD,
            skills=["first_aid"],
            motivation="希望为家乡平安出一份力。",
            charter_version=1,
            charter_accepted=True,
            privacy_accepted=True,
        )
        if status == "rejected":
            reject_application(actor=cast.users["captain"], application=application, reason=reason)


def build_roster_import(cast) -> None:
    """暨阳义警总队 onboards through the Excel path: a real office file (title row, a number
    typed with full-width digits, a date as an Excel serial) with one row whose ID number Excel
    turned into 3.30681E+17 — reported, not guessed; the valid rows imported."""
    from hongfeng.members import importing

    rng = random.Random(11)  # noqa: S311 — demo data
    headers = ["姓名", "身份证号", "手机号", "分队", "小组", "人员类别", "政治面貌", "专业技能"]
    book = WorkbookWriter()
    # GENERAL columns keep each value as typed: numbers stay numbers, as in the office's file.
    sheet = book.add_sheet(
        "Sheet1",
        [Column(h, Kind.GENERAL) for h in [*headers, "入队日期"]],
        title="暨阳义警总队队员名册（2026年11月）",
    )
    for index in range(12):
        name, _mobile, born, male = _person(rng, 500 + index)
        number = make_id_number(rng, born, male)
        if index == 3:
            number = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
        sheet.append(
            [
                name,
                number,
                13600000000 + index,
                "第一分队",
                "第一小组",
                Category(Category.values[index % 6]).label,
                "群众",
                "急救、反诈宣传",
                45200 + index * 7,
            ]
        )
    sheet.append(["丁一", 3.30681199001011e17, "13600000099", "第一分队", "", "学生", "", "", ""])
    importing.import_synchronously(
        actor=cast.users["county_admin"],
        team=cast.units["jiyang_team"],
        filename="暨阳义警总队队员名册.xlsx",
        content=book.to_bytes(),
        valid_only=True,
    )
