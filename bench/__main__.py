"""`python -m bench`: every benchmark scenario of issue 6 in one run, one table.

    .venv/bin/python -m bench                  # province scale (seeded once, ~1 h the first time)
    .venv/bin/python -m bench --quick          # small scale, fewer requests: under two minutes
    .venv/bin/python -m bench --write          # … and rewrite the marked section of RESULTS.md
    .venv/bin/python -m bench --only a,c       # some scenarios only

Uses the database in DATABASE_URL (default: the local PostgreSQL's hongfeng_bench, created if
missing), migrates it, and prepares its data once (reused on later runs): `hongfeng seed --scale
<scale> --seed 0` and the bench's own accounts, sign-up team and members (bench/prepare.py). It
starts the production server itself (`hongfeng serve`: gunicorn sync workers, HONGFENG_ENV=
production with bench-only keys) and stops it at the end, also on error or Ctrl-C.

Scenarios, each beside a baseline measured in the same run:
  a  sign-up burst (N members, one activity of capacity 300, ≥ 32 clients; exactly 300 must be
     accepted) and N GPS check-ins — baseline: the authenticated no-op GET /api/v1/ping;
     the broadcast fan-out in process;
  b  each role's home page and main API read over HTTP — baseline: the same numbers from one
     hand-written SQL query, run directly against the database with the same concurrency;
  c  member search by pinyin initials across the province as its admin — baseline: the same
     page in hand-written SQL;
  d  the 5,000-row roster import in process — baseline: a COPY of the rows it wrote;
  e  every member's level and every county's star rating in process — baseline: the
     hand-written SQL aggregates.
Peak memory is the largest RSS of any gunicorn worker during the scenario (sampled from
/proc), or of this process for the in-process ones.

Exit status 1 when a result is wrong (not exactly 300 accepted, a lost or doubled check-in, a
failed request, a page whose numbers differ from the hand-written query); missed timing targets
are reported, not failed — they depend on the machine and its load.
"""

import argparse
import os
import signal
import sys
import time

from bench import activities, harness, members, pages, points, prepare, report
from bench.report import Row

SCENARIOS = "abcde"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line, with --quick filling in the small defaults."""
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Every benchmark scenario of issue 6 in one run."
    )
    parser.add_argument(
        "--database-url", default=os.environ.get("DATABASE_URL", harness.DEFAULT_DATABASE_URL)
    )
    parser.add_argument("--quick", action="store_true", help="small scale, fewer requests")
    parser.add_argument("--scale", choices=["small", "county", "city", "province"])
    parser.add_argument("--seed", type=int, default=0, help="seed of `hongfeng seed` (0–99)")
    parser.add_argument("--requests", type=int, help="sign-ups and check-ins (2,000; quick 400)")
    parser.add_argument(
        "--members", type=int, help="sign-up group size, the fan-out's audience (10,000)"
    )
    parser.add_argument("--clients", type=int, default=32, help="clients for sign-up/check-in")
    parser.add_argument(
        "--page-clients", type=int, help="clients for pages and search (8; quick 4)"
    )
    parser.add_argument("--samples", type=int, help="requests per page and search (200; quick 10)")
    parser.add_argument("--rows", type=int, help="rows of the roster import (5,000; quick 500)")
    parser.add_argument(
        "--workers", type=int, help="gunicorn workers (as `hongfeng serve` starts by default)"
    )
    parser.add_argument("--only", default=SCENARIOS, help="scenarios to run, e.g. a,c")
    parser.add_argument("--write", action="store_true", help="rewrite bench/RESULTS.md's section")
    args = parser.parse_args(argv)
    quick = args.quick
    args.scale = args.scale or ("small" if quick else "province")
    args.requests = args.requests or (400 if quick else 2000)
    args.members = max(args.members or (args.requests if quick else 10_000), args.requests)
    args.page_clients = args.page_clients or (4 if quick else 8)
    args.samples = args.samples or (10 if quick else 200)
    args.rows = args.rows or (500 if quick else 5000)
    args.only = set(args.only.replace(",", "")) & set(SCENARIOS)
    if args.clients < 32 and "a" in args.only:
        parser.error("issue 6 asks for 32 or more concurrent clients for the sign-up burst")
    if args.requests <= activities.SIGNUP_CAPACITY:
        parser.error(f"--requests must exceed the capacity ({activities.SIGNUP_CAPACITY})")
    return args


def _stop_on_sigterm() -> None:
    """A SIGTERM ends the run like Ctrl-C: through the `finally` that stops the server."""

    def handler(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


_STARTED = time.perf_counter()


def say(message: str) -> None:
    """A progress line with the seconds since the start (where a slow run spends its time)."""
    print(f"[{time.perf_counter() - _STARTED:5.0f} s] {message}", flush=True)


def _where(database_url: str) -> str:
    """The database without credentials (for printing)."""
    return database_url.rsplit("@", 1)[-1]


def run(args: argparse.Namespace) -> list[Row]:
    """Prepare, run the chosen scenarios, and return the table's rows in order."""
    say(f"migrating {_where(args.database_url)}")
    harness.setup(args.database_url)
    if args.workers is None:  # what `hongfeng serve` would start for this database
        from hongfeng.core.server import default_workers

        args.workers = default_workers()
    say(f"database ready — {report.machine()}")
    prepare.ensure_seed(args.scale, args.seed)
    cast = prepare.bench_cast(args.scale, args.seed)
    db = harness.RawDatabase(args.database_url)
    bench_rss = harness.RssSampler.of_self().start()
    rows: list[Row] = []

    runs = None
    if "a" in args.only:
        user_ids = prepare.ensure_signup_members(cast, args.members)
        say("a: fan-out to the sign-up group (in process)")
        fanout = activities.bench_fanout(
            cast.users["county_admin"],
            cast.units["signup_team"],
            cast.units["signup_group"],
            bench_rss,
        )
        runs = activities.prepare_runs(cast, user_ids[: args.requests])
    vacuumed, analyzed = prepare.autovacuum_now()
    if vacuumed or analyzed:
        say(
            f"autovacuum's work done now: VACUUM of {len(vacuumed)} tables, ANALYZE of "
            f"{len(analyzed)} more"
        )
    if args.only & {"b", "c"}:
        for spec in prepare.role_specs():
            cast.tokens[spec.key] = prepare.token_for(cast.users[spec.key])
            cast.sessions[spec.key] = prepare.session_for(cast.users[spec.key])
    say("prepared; starting the server")

    server_rows: list[Row] = []
    server_peak = 0.0
    if args.only & {"a", "b", "c"}:
        with harness.running_server(args.database_url, args.workers) as server:
            say(
                f"server: hongfeng serve (gunicorn, {args.workers} sync workers, production "
                f"settings) on port {server.port}"
            )
            if runs is not None:
                say(f"a: {args.requests:,} sign-ups and check-ins, {args.clients} clients")
                server_rows += activities.run_http(server, runs, args.clients)
            if "b" in args.only:
                say(f"b: home pages and API reads, {args.page_clients} clients")
                server_rows += pages.bench_roles(
                    server, db, cast, samples=args.samples, clients=args.page_clients
                )
            if "c" in args.only:
                say("c: member search")
                server_rows.append(
                    members.bench_search(
                        server, db, cast, samples=args.samples, clients=args.page_clients
                    )
                )
            server_peak = server.memory.overall
        say("server stopped")
        errors = server.errors()
        if errors:
            print(f"server errors (log {server.log_path}):\n{errors[:3000]}")
        if runs is not None:
            activities.check_database(server_rows[:2], runs)
    if runs is not None:
        rows += [*server_rows[:2], fanout, *server_rows[2:]]
    else:
        rows += server_rows
    if "d" in args.only:
        say(f"d: roster import of {args.rows:,} rows (in process)")
        rows.append(members.bench_import(cast, rows=args.rows, sampler=bench_rss))
    if "e" in args.only:
        say("e: levels and star ratings (in process)")
        levels = points.bench_levels(db, bench_rss)
        ratings = points.bench_ratings(db, cast, bench_rss)
        rows += [levels, ratings, points.total_row(levels, ratings)]
    if server_rows:
        rows.append(
            Row(
                scenario="server memory: largest gunicorn worker, whole run",
                work=f"{args.workers} workers",
                rss=server_peak,
                target="< 250 MB",
                ok=server_peak < 250,
            )
        )
    bench_rss.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run, print the table (and write it), and answer 1 if a result was wrong."""
    args = parse(argv)
    _stop_on_sigterm()
    load_before = os.getloadavg()
    try:
        rows = run(args)
    except KeyboardInterrupt:
        print("\ninterrupted; the server (if started) was stopped", file=sys.stderr)
        return 130
    elapsed = time.perf_counter() - _STARTED
    load_after = os.getloadavg()
    header = report.header(
        scale=args.scale,
        quick=args.quick,
        database=_where(args.database_url),
        load_before=load_before,
        load_after=load_after,
    )
    print()
    print(header)
    print()
    print(report.table(rows))
    print()
    print(report.notes(rows))
    print(f"\nwhole run {elapsed:.0f} s")
    if args.write:
        report.write(rows, header)
        print(f"written to {report.RESULTS}")
    errors = [e for row in rows for e in row.errors]
    if errors:
        print(f"\n{len(errors)} WRONG RESULT(S): " + "; ".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
