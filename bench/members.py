"""Member scenarios: (c) pinyin-initials search across the province over HTTP, against the same
page written by hand in SQL; (d) the roster import of a 5,000-row .xlsx, against a COPY of the
rows it wrote (the database's floor for the same writes).

Run by `python -m bench` (see bench/__main__.py).
"""

import io
import random
import time

from bench.harness import RawDatabase, bearer, drive, latency, repeat_sql
from bench.names import person_name
from bench.prepare import FIRST_IMPORT, GROUP, IMPORT_SQUAD, bench_id_number, bench_mobile
from bench.report import Row

PAGE_SIZE = 50  # NINJA_PAGINATION_PER_PAGE: the API's first page
SEARCH_LETTERS = "zwlcyhgsmxtjdf"  # common initials, so most searches find thousands


def sql_list(values) -> str:
    """Constant strings (statuses, roles) as a SQL list, sorted so the query text is stable."""
    return ", ".join(f"'{v}'" for v in sorted(values))


def leader_roles() -> str:
    """The roles that give a member a position (总队长/分队长/小组长), as a SQL list."""
    from hongfeng.members.selectors import POSITION_LABELS

    return sql_list(POSITION_LABELS)


def serving_statuses() -> str:
    """The statuses in which a member counts as serving, as a SQL list."""
    from hongfeng.members.models import SERVING

    return sql_list(SERVING)


# ---- one page of the member list, by hand --------------------------------------------------


def member_page(db: RawDatabase, scope: str, params: list) -> tuple[str, list]:
    """The members API's first page (every column a list row shows: unit, position from the
    role assignments, skills, masked-number sources) and the total count, in one query, as a
    careful hand would write it: the page's 50 ids first (ordered by the (name, id) index),
    the per-row subqueries for those 50 only, the count beside them. `scope` is a WHERE clause
    over m (member) and u (their unit) with its `params`; returns (sql, params)."""
    leader = leader_roles()
    skills = db.text_agg("s.code || ':' || s.name")
    sql = f"""
        SELECT p.id, p.name, p.gender, p.birth_date, u.id, u.name, u.kind,
            (SELECT ra.role FROM accounts_roleassignment ra
             WHERE ra.user_id = p.user_id AND ra.revoked_at IS NULL AND ra.role IN ({leader})
             ORDER BY ra.role LIMIT 1),
            p.status, p.category, p.political_status, usr.mobile, p.id_last4, p.joined_on,
            (SELECT {skills} FROM members_member_skills ms
             JOIN members_skill s ON s.id = ms.skill_id WHERE ms.member_id = p.id),
            c.total
        FROM (
            SELECT m.* FROM members_member m JOIN orgs_unit u ON u.id = m.unit_id
            WHERE {scope} ORDER BY m.name, m.id LIMIT {PAGE_SIZE}
        ) p
        JOIN orgs_unit u ON u.id = p.unit_id
        JOIN accounts_user usr ON usr.id = p.user_id
        CROSS JOIN (
            SELECT count(*) AS total FROM members_member m JOIN orgs_unit u ON u.id = m.unit_id
            WHERE {scope}
        ) c
        ORDER BY p.name, p.id
    """
    return sql, [*params, *params]


def page_count(rows: list[tuple]) -> int:
    """The total count a page query returned (0 for an empty page)."""
    return rows[0][-1] if rows else 0


# ---- (c) search ----------------------------------------------------------------------------


def search_terms(samples: int) -> list[str]:
    """Two-letter pinyin initials, the same sequence on every run."""
    rng = random.Random(42)
    return [rng.choice(SEARCH_LETTERS) + rng.choice(SEARCH_LETTERS) for _ in range(samples)]


def bench_search(server, db: RawDatabase, cast, *, samples: int, clients: int) -> Row:
    """The province admin searches by pinyin initials (`GET /api/v1/members?q=zw`) over the
    whole province; the baseline is the same page and count in one hand-written query."""
    admin = cast.users["province_admin"]
    province = cast.units["province"]
    token = cast.tokens["province_admin"]
    terms = search_terms(samples)
    requests = [("GET", f"/api/v1/members?q={t}", bearer(token), None) for t in terms]
    drive(server.port, requests[:clients], clients)  # warm-up: every worker
    server.memory.reset()
    results, seconds = drive(server.port, requests, clients)
    rss = server.memory.peak()
    bad = [r for r in results if r[0] != 200]
    from hongfeng.accounts.access import own_file_in_reach

    scope, owner = "u.path LIKE %s", []
    if own_file_in_reach(admin, "members.view") is False:  # as the app: the OR only if needed
        scope, owner = "(u.path LIKE %s OR m.user_id = %s)", [admin.pk]
    scope += " AND (m.name_initials LIKE %s OR m.name_pinyin LIKE %s)"
    queries = [
        member_page(db, scope, [province.path + "%", *owner, t + "%", t + "%"]) for t in terms
    ]
    base, base_seconds = repeat_sql(db, queries, clients)
    stats = latency([ms for _, ms, _ in results])
    base_stats = latency([ms for ms, _ in base])
    throughput = len(results) / seconds
    base_rate = len(base) / base_seconds
    differ = sum(
        1
        for (status, _, body), (_, rows) in zip(results, base, strict=True)
        if status == 200 and body.get("count") != page_count(rows)
    )
    counts = [body.get("count", 0) for status, _, body in results if status == 200]
    row = Row(
        scenario="c member search, pinyin initials, province admin",
        work=f"{len(results):,} searches (mean {sum(counts) / max(len(counts), 1):,.0f} hits)",
        seconds=seconds,
        throughput=throughput,
        p50=stats["p50"],
        p95=stats["p95"],
        p99=stats["p99"],
        rss=rss,
        baseline=f"SQL {base_rate:,.0f} q/s, p95 {base_stats['p95']:.1f} ms",
        ratio=throughput / base_rate,
        target="p95 < 200 ms",
        ok=stats["p95"] < 200,
    )
    row.notes.append(f"{clients} clients; hand-written SQL p50 {base_stats['p50']:.1f} ms")
    if differ:
        row.fail(f"{differ} API COUNTS DIFFER FROM THE HAND-WRITTEN SQL")
    if bad:
        row.fail(f"{len(bad)} SEARCHES FAILED, first: {bad[0][0]} {str(bad[0][2])[:200]}")
    return row


# ---- (d) the roster import -----------------------------------------------------------------


def roster_xlsx(cast, rows: int) -> bytes:
    """A roster as offices send it: one sheet, a header, `rows` fresh people for the sign-up
    team's second squad (the same people every run: each run is rolled back)."""
    from hongfeng.core.workbooks import Column, Kind, WorkbookWriter

    book = WorkbookWriter()
    headers = ["姓名", "身份证号", "手机号", "分队", "小组", "人员类别", "专业技能"]
    sheet = book.add_sheet("Sheet1", [Column(h, Kind.GENERAL) for h in headers])
    for i in range(rows):
        n = FIRST_IMPORT + i
        sheet.append(
            [
                person_name(n),
                bench_id_number(cast.scale, cast.seed, n),
                bench_mobile(cast.scale, cast.seed, n),
                IMPORT_SQUAD,
                GROUP,
                "学生",
                "急救",
            ]
        )
    return book.to_bytes()


class _RollBack(Exception):
    """Raised to undo the import after it was measured."""


def _integer_pk_models() -> list:
    from django.apps import apps
    from django.db import models

    return [
        m
        for m in apps.get_models(include_auto_created=True)
        if isinstance(m._meta.pk, models.AutoField | models.BigAutoField)
        and not m._meta.proxy
        and m._meta.managed
    ]


def _floor(new_rows: dict) -> tuple[float, int]:
    """Write the rows the import wrote once more, by the fastest path the database has, into
    twin tables (PostgreSQL: `LIKE … INCLUDING INDEXES`, filled by COPY; SQLite: plain copies
    without indexes, filled by executemany). Returns (seconds, rows)."""
    from django.db import connection

    with connection.cursor() as cursor:
        raw = cursor.cursor  # the driver's own cursor
        if connection.vendor == "postgresql":
            dumps = {}
            for table, (pk, before) in new_rows.items():
                cursor.execute(
                    f'CREATE TABLE "bench_floor_{table}" (LIKE "{table}" INCLUDING DEFAULTS '
                    "INCLUDING INDEXES)"
                )
                out = io.BytesIO()
                with raw.copy(
                    f'COPY (SELECT * FROM "{table}" WHERE "{pk}" > {int(before)}) TO STDOUT'
                ) as copy:
                    for chunk in copy:
                        out.write(chunk)
                dumps[table] = out.getvalue()
            started = time.perf_counter()
            for table, data in dumps.items():
                with raw.copy(f'COPY "bench_floor_{table}" FROM STDIN') as copy:
                    copy.write(data)
            seconds = time.perf_counter() - started
            count = sum(data.count(b"\n") for data in dumps.values())
        else:
            fetched = {}
            for table, (pk, before) in new_rows.items():
                cursor.execute(
                    f'CREATE TABLE "bench_floor_{table}" AS SELECT * FROM "{table}" WHERE 0'
                )
                cursor.execute(f'SELECT * FROM "{table}" WHERE "{pk}" > %s', [before])
                fetched[table] = cursor.fetchall()
            started = time.perf_counter()
            for table, rows in fetched.items():
                if rows:
                    marks = ", ".join("?" * len(rows[0]))
                    raw.executemany(f'INSERT INTO "bench_floor_{table}" VALUES ({marks})', rows)
            seconds = time.perf_counter() - started
            count = sum(len(rows) for rows in fetched.values())
    return seconds, count


def bench_import(cast, *, rows: int, sampler) -> Row:
    """Import a `rows`-row .xlsx into the sign-up team through `import_synchronously` (read,
    validate every row, write files, accounts, roles, history, consents and audit events),
    then COPY what it wrote into twin tables; all inside one transaction rolled back at the end
    so that every run imports the same people into the same database."""
    from django.db import transaction
    from django.db.models import Max

    from hongfeng.members import importing

    content = roster_xlsx(cast, rows)
    models = _integer_pk_models()
    result: dict = {}
    try:
        with transaction.atomic():
            before = {m: m.objects.aggregate(top=Max("pk"))["top"] or 0 for m in models}
            sampler.reset()
            started = time.perf_counter()
            roster_import = importing.import_synchronously(
                actor=cast.users["county_admin"],
                team=cast.units["signup_team"],
                filename="bench.xlsx",
                content=content,
            )
            result["seconds"] = time.perf_counter() - started
            result["rss"] = sampler.peak()
            result["imported"] = roster_import.imported_rows
            result["errors"] = roster_import.error_rows
            result["report"] = roster_import.report[:3]
            new_rows = {}
            for model, top in before.items():
                written = model.objects.filter(pk__gt=top).count()
                if written:
                    new_rows[model._meta.db_table] = (model._meta.pk.column, top, written)
            result["tables"] = {t: n for t, (_pk, _top, n) in new_rows.items()}
            result["floor"] = _floor({t: (pk, top) for t, (pk, top, _n) in new_rows.items()})
            raise _RollBack
    except _RollBack:
        pass
    seconds = result["seconds"]
    floor_seconds, floor_rows = result["floor"]
    ok = result["imported"] == rows and not result["errors"]
    row = Row(
        scenario="d roster import .xlsx (in process)",
        work=f"{rows:,} rows → {result['imported']:,} members",
        seconds=seconds,
        throughput=rows / seconds,
        rate_unit="rows/s",
        rss=result["rss"],
        rss_of="bench",
        baseline=f"COPY floor {rows / floor_seconds:,.0f} rows/s",
        ratio=floor_seconds / seconds,
        target=f"{rows:,} rows < 10 s" if rows == 5000 else "(5,000 rows < 10 s)",
        ok=seconds < 10 if rows == 5000 else None,
    )
    row.notes.append(
        "the import wrote "
        + ", ".join(f"{t} {n:,}" for t, n in result["tables"].items())
        + f"; the floor copied those {floor_rows:,} rows in {floor_seconds:.2f} s"
        + ("" if _is_postgres() else " (SQLite: twin tables without indexes)")
        + "; rolled back afterwards"
    )
    if not ok:
        row.fail(f"IMPORT FAILED: {result['errors']} error rows, e.g. {result['report']}")
    return row


def _is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


if __name__ == "__main__":
    # The per-issue command of old, now a subset of the one bench: `python -m bench --only c,d`.
    import sys

    from bench.__main__ import main

    sys.exit(main(["--only", "c,d", *sys.argv[1:]]))
