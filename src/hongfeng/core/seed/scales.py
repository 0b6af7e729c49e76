"""Seed scales, the numbers and names every seed step draws from, and the deterministic dice.
What a domain draws (activity kinds, member statuses …) lives in that domain's seed module."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate
from random import Random

from hongfeng.core.idnumber import check_character
from hongfeng.core.pinyin import pinyin_of

BATCH = 2000  # rows per INSERT on the bulk_create path


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
# Characters of the seed's place names (cities, counties, stations, teams, addresses).
PLACE = "东西南北安平宁康泰和兴华云山水江湖海桥溪林石金玉嘉临清"


class AlreadySeeded(Exception):
    """The scale and seed are already in the database (a seed step says so)."""


def root_name(scale: str, seed: int) -> str:
    return f"压测省义警协会（{scale}·种子{seed}）"


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
