"""Scenario (e): every member's level recomputed from the ledger, and the year's star rating of
every county association of the seed's province — in process, each beside the hand-written SQL
aggregate that computes the same numbers.

Run by `python -m bench` (see bench/__main__.py).

  1. `rebuild_all_totals()` after every cached total was zeroed on purpose (so the run really
     rewrites every row) — baseline: one SQL aggregate of every member's earned points, balance
     and level;
  2. `run_rating` for this year for each county association under the province (team points for
     the year and the two before), inside a transaction rolled back afterwards so runs do not
     pile up — baseline: one SQL aggregate of every team's points in the three years;
  3. the sum of 1 and 2 against the 30 s target.
"""

import time

from bench.harness import RawDatabase
from bench.report import Row


def level_case(column: str) -> str:
    """`rules.level_of` as a SQL CASE over `column`."""
    from hongfeng.points.rules import level_sql

    return level_sql(column)


def _vacuum(table: str) -> None:
    """PostgreSQL: drop the dead rows of a mass update, so every run starts alike."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def _timed_sql(db: RawDatabase, sql: str, params: list) -> tuple[float, int]:
    conn = db.connect()
    try:
        started = time.perf_counter()
        rows = db.run(conn, sql, params)
        return time.perf_counter() - started, len(rows)
    finally:
        conn.close()


def bench_levels(db: RawDatabase, sampler) -> Row:
    """Zero every cached total, then `rebuild_all_totals()`; check the cache against the ledger
    afterwards."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hongfeng.points.models import MemberPoints, PointsEntry
    from hongfeng.points.services import rebuild_all_totals

    with connection.cursor() as cursor:
        cursor.execute("UPDATE points_memberpoints SET earned = 0, balance = 0, level = 0")
        stale = cursor.rowcount
    _vacuum("points_memberpoints")
    entries = PointsEntry.objects.count()
    sampler.reset()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        changed = rebuild_all_totals()
        seconds = time.perf_counter() - started
    rss = sampler.peak()
    aggregate = f"""
        SELECT member_id, sum(earned), sum(amount), {level_case("sum(earned)")}
        FROM points_pointsentry GROUP BY member_id ORDER BY member_id
    """
    base_seconds, base_rows = _timed_sql(db, aggregate, [])
    with connection.cursor() as cursor:
        # SQLite keeps decimals as floating point: its sums differ in the last places, hence
        # a tolerance of half a cent rather than equality.
        cursor.execute(
            f"""
            SELECT count(*) FROM points_memberpoints c LEFT JOIN (
                SELECT member_id, sum(earned) AS e, sum(amount) AS b FROM points_pointsentry
                GROUP BY member_id) s ON s.member_id = c.member_id
            WHERE abs(c.earned - coalesce(s.e, 0)) > 0.005
                OR abs(c.balance - coalesce(s.b, 0)) > 0.005
                OR c.level <> {level_case("coalesce(s.e, 0)")}
            """
        )
        wrong = cursor.fetchone()[0]
        cursor.execute("SELECT level, count(*) FROM points_memberpoints GROUP BY 1 ORDER BY 1")
        levels = cursor.fetchall()
    members = MemberPoints.objects.count()
    row = Row(
        scenario="e1 levels: rebuild_all_totals (in process)",
        work=f"{members:,} members, {entries:,} ledger entries",
        seconds=seconds,
        throughput=members / seconds,
        rate_unit="members/s",
        rss=rss,
        rss_of="bench",
        baseline=f"SQL aggregate {base_seconds:.2f} s",
        ratio=base_seconds / seconds,
    )
    row.notes.append(
        f"{stale:,} cached totals zeroed first, {changed:,} rewritten in {len(queries)} queries; "
        f"{wrong} differ from the ledger afterwards; levels "
        + ", ".join(f"{lv}: {n:,}" for lv, n in levels)
        + f"; the SQL aggregate returned {base_rows:,} members (computed, not written)"
    )
    if wrong:
        row.fail(f"{wrong} CACHED TOTALS DIFFER FROM THE LEDGER")
    return row


def bench_ratings(db: RawDatabase, cast, sampler) -> Row:
    """This year's star rating of every county association under the province, rolled back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from hongfeng.orgs.models import Unit, UnitKind
    from hongfeng.points.services import _year_bounds, run_rating

    province = cast.units["province"]
    counties = list(
        Unit.objects.filter(
            path__startswith=province.path, kind=UnitKind.COUNTY_ASSOCIATION
        ).order_by("path")
    )
    year = timezone.localdate().year
    actor = cast.users["province_admin"]
    result: dict = {}

    class RollBack(Exception):
        pass

    try:
        with transaction.atomic():
            sampler.reset()
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                runs = [run_rating(actor=actor, association=c, year=year) for c in counties]
                result["seconds"] = time.perf_counter() - started
            result["rss"] = sampler.peak()
            result["queries"] = len(queries)
            result["teams"] = sum(run.results.count() for run in runs)
            raise RollBack
    except RollBack:
        pass
    start, _ = _year_bounds(year - 2)
    _, end = _year_bounds(year)
    years = [_year_bounds(y) for y in (year - 2, year - 1, year)]
    sums = ", ".join(
        "sum(CASE WHEN a.starts_at >= %s AND a.starts_at < %s THEN p.earned ELSE 0 END)"
        for _ in years
    )
    aggregate = f"""
        SELECT p.team_id, {sums}
        FROM points_pointsentry p
        JOIN activities_activity a ON a.id = p.activity_id
        JOIN orgs_unit t ON t.id = p.team_id
        WHERE t.path LIKE %s AND t.kind = 'team' AND t.archived_at IS NULL
            AND p.source IN ('activity', 'correction')
            AND a.starts_at >= %s AND a.starts_at < %s
        GROUP BY p.team_id
    """
    params = [bound for pair in years for bound in pair] + [province.path + "%", start, end]
    base_seconds, base_rows = _timed_sql(db, aggregate, params)
    seconds = result["seconds"]
    row = Row(
        scenario="e2 star rating, every county association (in process)",
        work=f"{len(counties)} ratings of {result['teams']:,} teams, {year}",
        seconds=seconds,
        throughput=result["teams"] / seconds,
        rate_unit="teams/s",
        rss=result["rss"],
        rss_of="bench",
        baseline=f"SQL aggregate {base_seconds:.2f} s",
        ratio=base_seconds / seconds,
    )
    row.notes.append(
        f"{result['queries']} queries ({result['queries'] / max(len(counties), 1):.0f} per "
        f"rating); the SQL aggregate returned {base_rows:,} teams × 3 years; rolled back "
        "afterwards"
    )
    return row


def total_row(levels: Row, ratings: Row) -> Row:
    """Levels and rating together, against the target."""
    seconds = levels.seconds + ratings.seconds
    return Row(
        scenario="e rating + levels",
        work="e1 + e2",
        seconds=seconds,
        target="< 30 s",
        ok=seconds < 30 and levels.ok is not False,
    )


if __name__ == "__main__":
    # The per-issue command of old, now a subset of the one bench: `python -m bench --only e`.
    import sys

    from bench.__main__ import main

    sys.exit(main(["--only", "e", *sys.argv[1:]]))
