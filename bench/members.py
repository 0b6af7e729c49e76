"""Benchmark (not a test): roster import and member search at scale (issue 3).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hongfeng_bench python -m bench.members

Uses the database in DATABASE_URL (created if missing on PostgreSQL, migrated, demo data loaded
when empty). Prints:
  1. importing a 5,000-row .xlsx roster (read, validate, bulk import): seconds and rows/s —
     target under 10 s;
  2. pinyin-initials search over --members members (default 200,000; created once through the
     same bulk path): p50 / p95 / max per search — target p95 under 200 ms.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta


def _setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hongfeng.settings")
    os.environ.setdefault("HONGFENG_TASKS", "immediate")
    if database_url.startswith("postgres"):
        import psycopg

        base, name = database_url.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _id_number(n: int) -> str:
    from hongfeng.core.idnumber import check_character

    born = date(1950, 1, 1) + timedelta(days=n % 20000)
    first17 = f"3306{(n // 20000) % 100:02d}{born:%Y%m%d}{n % 997:03d}"
    return first17 + check_character(first17)


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红梅海燕鹏飞宇浩然子涵欣怡"


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.sample(_GIVEN, rng.choice([1, 2])))


def bench_import(cast, rows: int) -> tuple[float, int]:
    from openpyxl import Workbook

    from hongfeng.members import importing
    from hongfeng.members.models import RosterImport

    rng = random.Random(5000)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "身份证号", "手机号", "分队", "小组", "人员类别", "专业技能"])
    # A fresh block of people on every run (IDs stay unique below 2,000,000 after the modulo).
    offset = 3_000_000 + RosterImport.objects.count() * 10_000
    for i in range(rows):
        sheet.append(
            [
                _name(rng),
                _id_number(offset + i),
                f"13{offset + i:09d}"[:11],
                "第一分队",
                "第一小组",
                "学生",
                "急救",
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    captain = cast.users["captain"]
    started = time.perf_counter()
    roster_import = importing.import_synchronously(
        actor=captain,
        team=cast.units["hongfeng"],
        filename="bench.xlsx",
        content=buffer.getvalue(),
    )
    if roster_import.error_rows:
        sys.exit(f"bench roster has errors: {roster_import.report[:3]}")
    elapsed = time.perf_counter() - started
    roster_import.refresh_from_db()
    return elapsed, roster_import.imported_rows


def ensure_members(cast, target: int) -> int:
    """Top the bench team up to `target` members through the bulk import path."""
    from hongfeng.members import importing
    from hongfeng.members.models import Member, RosterImport
    from hongfeng.members.roster import RosterRow

    team = cast.units["hongfeng"]
    have = Member.objects.filter(unit__path__startswith=team.path).count()
    rng = random.Random(target)
    group = cast.units["hongfeng_group1"]
    n = 10_000_000 + have
    while have < target:
        batch = min(5000, target - have)
        rows = []
        for _ in range(batch):
            n += 1
            rows.append(
                RosterRow(
                    number=n,
                    name=_name(rng),
                    id_number=_id_number(n),
                    mobile=f"15{n % 10**9:09d}",
                    unit=group,
                    unit_label=group.name,
                )
            )
        marker = RosterImport.objects.create(
            team=team,
            filename="bench-bulk",
            content=b"",
            created_by=cast.users["captain"],
            total_rows=batch,
        )
        importing.import_rows(actor=cast.users["captain"], roster_import=marker, rows=rows)
        have += batch
        print(f"  … {have:,} members", flush=True)
    return have


def bench_search(cast, samples: int) -> list[float]:
    from hongfeng.members.selectors import members_for

    captain = cast.users["captain"]
    rng = random.Random(42)
    letters = "zwlcyhgsmxtjdf"
    timings = []
    for _ in range(samples):
        query = rng.choice(letters) + rng.choice(letters)
        started = time.perf_counter()
        rows = members_for(captain, q=query)
        page = list(rows[:50])
        rows.count()
        for member in page:  # what the list renders
            member.masked_id_number  # noqa: B018
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hongfeng_bench"),
    )
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    _setup(args.database_url)
    from hongfeng.core import demo

    cast = demo.build() if demo.is_empty() else demo.load()
    print(f"database: {args.database_url.rsplit('@', 1)[-1]}")
    seconds, imported = bench_import(cast, args.rows)
    print(
        f"roster import: {imported:,} rows in {seconds:.2f} s = {imported / seconds:,.0f} rows/s"
        f"  (target < 10 s: {'OK' if seconds < 10 else 'MISSED'})"
    )
    started = time.perf_counter()
    total = ensure_members(cast, args.members)
    print(f"members in the team: {total:,} (prepared in {time.perf_counter() - started:.0f} s)")
    timings = bench_search(cast, args.samples)
    p95 = statistics.quantiles(timings, n=20)[18]
    print(
        f"pinyin-initials search ({args.samples} queries): p50 {statistics.median(timings):.1f} ms"
        f", p95 {p95:.1f} ms, max {max(timings):.1f} ms  (target p95 < 200 ms: "
        f"{'OK' if p95 < 200 else 'MISSED'})"
    )


if __name__ == "__main__":
    main()
