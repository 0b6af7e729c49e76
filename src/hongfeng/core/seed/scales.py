"""Seed scales, the numbers and names the seed draws from, and its deterministic dice."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from random import Random

from hongfeng.accounts.models import Role
from hongfeng.activities.models import (
    ActivityKind,
    Difficulty,
    Effect,
    Quality,
)
from hongfeng.core.idnumber import check_character
from hongfeng.members.models import (
    Category,
    MemberStatus,
    PoliticalStatus,
)
from hongfeng.members.services.files import pinyin_of
from hongfeng.orgs.models import Unit, UnitKind

BATCH = 2000  # rows per INSERT on the bulk_create path
HOUR = Decimal("0.01")
DEFAULT_LABEL = "默认规则（团体标准）"  # as hongfeng.points.services.DEFAULT_LABEL


@dataclass(frozen=True)
class Scale:
    code: int  # one digit, part of every generated mobile and ID number
    cities: int
    counties: int
    teams: int
    members: int
    checkins_per_member: int = 10  # five activities per member, a check-in and a check-out each


SCALES: dict[str, Scale] = {
    "small": Scale(0, cities=1, counties=2, teams=4, members=200),
    "county": Scale(1, cities=1, counties=1, teams=20, members=4_000),
    "city": Scale(2, cities=1, counties=10, teams=138, members=13_000),
    "province": Scale(3, cities=11, counties=90, teams=1_000, members=200_000),
}
SQUADS_PER_TEAM = 3
GROUPS_PER_SQUAD = 2
STATIONS_PER_COUNTY = 3

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"
_PLACE = "东西南北安平宁康泰和兴华云山水江湖海桥溪林石金玉嘉临清"
_ACTIVITY_TITLES = {
    ActivityKind.PATROL: "夜间巡逻守护",
    ActivityKind.PUBLICITY: "反诈防范宣传",
    ActivityKind.RISK_INSPECTION: "出租房风险排查",
    ActivityKind.CARE: "关爱独居老人",
    ActivityKind.SECURITY_DUTY: "大型活动安保勤务",
    ActivityKind.MEDIATION: "邻里矛盾化解",
}
_RISK_ASSESSMENT = "高风险任务：已完成安全风险评估，配发防护装备，民警现场指导，设置撤离路线。"
_QUALITY_WEIGHTS = [(Quality.EXCELLENT, 2), (Quality.GOOD, 5), (Quality.PASS, 3)]
_DIFFICULTY_WEIGHTS = [
    (Difficulty.NORMAL, 6),
    (Difficulty.HARDER, 2),
    (Difficulty.HARD, 1),
    (Difficulty.HIGH_RISK, 1),
]
_KINDS = list(_ACTIVITY_TITLES)
_EFFECTS = [Effect.EXCELLENT, Effect.GOOD, Effect.FAIR]
# Statuses of the rank and file (leaders are core members); every status of 5.2.7 appears.
_STATUS_WEIGHTS = [
    (MemberStatus.ACTIVE, 70),
    (MemberStatus.CORE, 8),
    (MemberStatus.PROBATION, 8),
    (MemberStatus.INACTIVE, 8),
    (MemberStatus.DEMOTED, 2),
    (MemberStatus.SUSPENDED, 2),
    (MemberStatus.EXITED, 2),
]
# The last change of a member who left "active": days before today it happened, and why.
_LATER_CHANGES = {
    MemberStatus.INACTIVE: ((10, 60), "连续30天无签到记录（5.2.7）"),
    MemberStatus.DEMOTED: ((10, 60), "长期未参加活动，经总队研究降级"),
    MemberStatus.SUSPENDED: ((5, 60), "因工作调动暂停服务"),
    MemberStatus.EXITED: ((5, 60), "本人申请退出"),
}
_CATEGORY_WEIGHTS = [
    (Category.ENTERPRISE, 30),
    (Category.GIG_WORKER, 15),
    (Category.RETIRED_CADRE, 15),
    (Category.CIVIL_SERVANT, 10),
    (Category.STUDENT, 10),
    (Category.OTHER, 20),
]
_POLITICAL_WEIGHTS = [
    (PoliticalStatus.MASSES, 60),
    (PoliticalStatus.PARTY_MEMBER, 25),
    (PoliticalStatus.LEAGUE_MEMBER, 10),
    (PoliticalStatus.PROBATIONARY, 2),
    (PoliticalStatus.DEMOCRATIC_PARTY, 3),
]
_INSURERS = ["中国人寿", "中国平安", "中国人保", "太平洋保险"]
# Leaders per team, in this order: the captain on the team, a leader on every squad and group.
_LEADER_ROLES = {
    UnitKind.TEAM: Role.CAPTAIN,
    UnitKind.SQUAD: Role.SQUAD_LEADER,
    UnitKind.GROUP: Role.GROUP_LEADER,
}


class AlreadySeeded(Exception):
    pass


def root_name(scale: str, seed: int) -> str:
    return f"压测省义警协会（{scale}·种子{seed}）"


def is_seeded(scale: str, seed: int) -> bool:
    return Unit.objects.filter(parent__isnull=True, name=root_name(scale, seed)).exists()


def person_name(rng: Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))


class Dice(Random):
    """`random.Random` with a `randint` and `choice` drawn from one `random()` call each:
    several times cheaper than the originals (≈ 0.1 µs instead of ≈ 0.6 µs, and the seed
    draws tens of millions), with a bias far below anything test data could show."""

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]


class Weights:
    """A weighted choice prepared once: `pick(rng)` is one draw and a bisection."""

    def __init__(self, pairs):
        self.values = [value for value, _ in pairs]
        self.cumulative = list(accumulate(weight for _, weight in pairs))
        self.total = self.cumulative[-1]

    def pick(self, rng: Random):
        return self.values[bisect_right(self.cumulative, rng.random() * self.total)]


_STATUSES = Weights(_STATUS_WEIGHTS)
_POLITICAL = Weights(_POLITICAL_WEIGHTS)
_CATEGORIES = Weights(_CATEGORY_WEIGHTS)
_DIFFICULTIES = Weights(_DIFFICULTY_WEIGHTS)
_QUALITIES = Weights(_QUALITY_WEIGHTS)


def mobile_for(scale: Scale, seed: int, n: int) -> str:
    """19 + scale digit + two seed digits + six digits of the running number."""
    return f"19{scale.code}{seed:02d}{n:06d}"


def id_number_for(scale: Scale, seed: int, n: int, rng: Random) -> str:
    """A valid GB 11643 number, unique per (scale, seed, n): the region carries the scale, the
    seed and n % 100, the birth date n // 100 (born 1960–2004), the sequence is random."""
    region = f"5{scale.code}{seed:02d}{n % 100:02d}"
    born = date(1960, 1, 1) + timedelta(days=(n // 100) * 8 + rng.randrange(8))
    first17 = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return first17 + check_character(first17)


# pypinyin needs ≈ 0.5 ms per name — 100 s for a province. Seeded names are drawn from fixed
# character pools, and composing them from per-character readings gives exactly `pinyin_of`'s
# result for every possible seeded name (checked exhaustively when this was written;
# tests/core/test_seed.py re-checks a sample), so the readings are looked up once per character.
_CHAR_PINYIN = {ch: pinyin_of(ch) for ch in dict.fromkeys(_SURNAMES + _GIVEN)}


def seeded_pinyin(name: str) -> tuple[str, str]:
    """`pinyin_of(name)` for a name made of the seed's characters, by table lookup (any other
    character, as in the seed's own 压测管理员, is read by pypinyin)."""
    parts = [_CHAR_PINYIN.get(ch) or pinyin_of(ch) for ch in name]
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)
