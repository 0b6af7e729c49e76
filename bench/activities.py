"""Benchmark (not a test): activity sign-up, check-in and the broadcast fan-out (issue 4).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hongfeng_bench_act \
        .venv/bin/python -m bench.activities

Uses the database in DATABASE_URL (created if missing on PostgreSQL, migrated, demo data loaded
when empty, HONGFENG_TASKS=immediate in this process). Prepares once, and reuses on later runs,
a bench group under the demo team 红枫 holding --members (default 10,000) eligible members
(pre-job training done, insured, serving), then:

  1. fan-out: publishes an activity whose audience is the bench group and times `run_broadcast`
     in this process, as the task worker would run it: every notice (inbox + SMS + WeChat per
     member) written — target under 5 s. Delivery to the outside channels is queued as chunk
     tasks on the database queue (counted, then removed: nobody is messaged);
  2. starts the production server (`hongfeng serve`: gunicorn sync workers, HONGFENG_ENV=
     production with bench-only keys) on a free port and, with --clients (default 32) concurrent
     clients, each request from a distinct member with its own bearer token:
       - 2,000 sign-ups for one fresh activity of capacity 300 (accepted must be exactly 300);
       - 2,000 GPS check-ins to a fresh activity where the same 2,000 are confirmed;
     each beside the same server's throughput on the authenticated no-op `GET /api/v1/ping`,
     measured just before it with the same clients and tokens — target ratio ≥ 0.4 and
     p99 < 150 ms. The server is stopped at the end, also on error.

The in-process part and the server share fixed bench-only keys (field encryption, blind index,
audit chain), so a bench database is only ever used with these keys.
"""

import argparse
import http.client
import itertools
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

# Not secrets: they protect nothing but the benchmark database. Production refuses the
# development defaults, so the server and this process agree on these instead.
BENCH_KEYS = {
    "HONGFENG_SECRET_KEY": "bench-only-secret-key-not-for-any-real-deployment-0123456789abcdef",
    "HONGFENG_AUDIT_KEY": "bench-only-audit-key-not-for-any-real-deployment",
    "HONGFENG_FIELD_KEY": "bench-only-field-key-not-for-any-real-deployment",
    "HONGFENG_BLIND_INDEX_KEY": "bench-only-blind-index-key-not-for-any-real-deployment",
}
BENCH_GROUP = "压测小组"
FIRST_NUMBER = 20_000_000  # ID numbers and mobiles of bench members start here
SIGNUP_CAPACITY = 300
LAT, LON = 30.2741, 120.1551


# ---- preparation (in process) --------------------------------------------------------------


def bench_group(cast):
    """The group that holds the bench members (created once under the team's first squad)."""
    from hongfeng.orgs.models import Unit, UnitKind
    from hongfeng.orgs.services import create_unit

    squad = cast.units["hongfeng_squad1"]
    group = Unit.objects.filter(parent=squad, name=BENCH_GROUP).first()
    if group is None:
        group = create_unit(
            actor=cast.users["captain"], parent=squad, kind=UnitKind.GROUP, name=BENCH_GROUP
        )
    return group


def ensure_members(cast, group, target: int) -> list[int]:
    """Top the bench group up to `target` members through the roster bulk-import path, and make
    every one eligible for activities in the coming year. Returns the members' user ids."""
    from django.utils import timezone

    from bench.members import _id_number, _name
    from hongfeng.members import importing
    from hongfeng.members.models import InsurancePolicy, Member, RosterImport
    from hongfeng.members.roster import RosterRow

    members = Member.objects.filter(unit=group)
    have = members.count()
    rng = random.Random(target)
    n = FIRST_NUMBER + have
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
            team=cast.units["hongfeng"],
            filename="bench-activities",
            content=b"",
            created_by=cast.users["captain"],
            total_rows=batch,
        )
        importing.import_rows(actor=cast.users["captain"], roster_import=marker, rows=rows)
        have += batch
        print(f"  … {have:,} bench members", flush=True)
    today = timezone.localdate()
    members.filter(pre_job_training_on__isnull=True).update(
        pre_job_training_on=today - timedelta(days=30)
    )
    members.exclude(health_fit=True).update(health_fit=True)
    until = today + timedelta(days=30)
    uninsured = members.exclude(insurances__starts_on__lte=today, insurances__ends_on__gte=until)
    InsurancePolicy.objects.bulk_create(
        [
            InsurancePolicy(
                member_id=pk,
                insurer="压测保险",
                policy_number=f"BENCH-{pk}",
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=365),
            )
            for pk in uninsured.values_list("pk", flat=True)
        ],
        batch_size=2000,
    )
    return list(members.order_by("pk").values_list("user_id", flat=True)[:target])


def issue_tokens(user_ids: list[int]) -> list[str]:
    """A fresh bearer token for each user — what `issue_api_token` writes (token row + audit
    event), in bulk."""
    import secrets

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from hongfeng.accounts.models import ApiToken
    from hongfeng.accounts.services import TOKEN_PREFIX, _digest
    from hongfeng.audit.services import record_events

    now = timezone.now()
    tokens = [TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in user_ids]
    records = [
        ApiToken(
            user_id=user_id,
            digest=_digest(token),
            prefix=token[:10],
            label="bench",
            created_at=now,
            expires_at=now + settings.API_TOKEN_TTL,
        )
        for user_id, token in zip(user_ids, tokens, strict=True)
    ]
    with transaction.atomic():
        ApiToken.objects.bulk_create(records, batch_size=2000)
        record_events(
            [
                {
                    "action": "auth.token_issued",
                    "actor": None,
                    "actor_label": "bench",
                    "summary": {"token": r.prefix, "user": r.user_id},
                }
                for r in records
            ]
        )
    return tokens


def new_activity(cast, audience, *, title: str, capacity: int, starts_in: timedelta):
    """A fresh activity of the bench team for the bench group."""
    from django.utils import timezone

    from hongfeng.activities import services
    from hongfeng.activities.models import ActivityKind

    starts = timezone.now() + starts_in
    return services.create_activity(
        actor=cast.users["captain"],
        unit=cast.units["hongfeng"],
        audience_unit=audience,
        data=services.ActivityData(
            kind=ActivityKind.PATROL,
            title=title,
            place="压测广场",
            latitude=LAT,
            longitude=LON,
            starts_at=starts,
            ends_at=starts + timedelta(hours=3),
            capacity=capacity,
        ),
    )


def open_without_broadcast(cast, activity) -> None:
    """Published, but without the broadcast (the fan-out is measured on its own): the sign-up
    and check-in runs then measure only their own requests."""
    from django.utils import timezone

    from hongfeng.activities import services
    from hongfeng.activities.models import Activity, ActivityStatus

    services.transition(activity=activity, to=ActivityStatus.PUBLISHED, actor=cast.users["captain"])
    Activity.objects.filter(pk=activity.pk).update(published_at=timezone.now())


def confirm_all(activity, user_ids: list[int]) -> None:
    """Everyone signed up and confirmed (what 2,000 sign-ups leave behind), in bulk."""
    from django.utils import timezone

    from hongfeng.activities.models import Activity, Participation, ParticipationStatus
    from hongfeng.members.models import Member

    now = timezone.now()
    member_ids = Member.objects.filter(user_id__in=user_ids).values_list("pk", flat=True)
    Participation.objects.bulk_create(
        [
            Participation(
                activity=activity,
                member_id=pk,
                status=ParticipationStatus.CONFIRMED,
                queued_at=now,
                updated_at=now,
            )
            for pk in member_ids
        ],
        batch_size=2000,
    )
    Activity.objects.filter(pk=activity.pk).update(confirmed_count=len(user_ids))


def bench_fanout(cast, group) -> dict:
    """Publish to the bench group and time the broadcast as the task worker runs it."""
    from django.test.utils import override_settings
    from django_tasks_db.models import DBTaskResult

    from hongfeng.activities import services
    from hongfeng.notices.models import Channel, Notice

    activity = new_activity(
        cast, group, title="压测：一呼百应", capacity=100, starts_in=timedelta(days=1)
    )
    eligible = services.eligible_members(activity).count()
    database_queue = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queued_before = set(DBTaskResult.objects.values_list("pk", flat=True))
    with override_settings(TASKS=database_queue):
        # As in production: publishing queues one broadcast task; the worker then runs it.
        services.publish_activity(actor=cast.users["captain"], activity=activity)
        started = time.perf_counter()
        reached = services.run_broadcast(activity.pk)
        seconds = time.perf_counter() - started
    by_channel = dict(_count_by(Notice.objects.filter(ref=f"activity:{activity.pk}"), "channel"))
    queued = DBTaskResult.objects.exclude(pk__in=queued_before)
    tasks = {path.rsplit(".", 1)[-1]: n for path, n in _count_by(queued, "task_path")}
    queued.delete()  # nobody is messaged: the bench's deliveries never run
    return {
        "activity": activity.pk,
        "eligible": eligible,
        "reached": reached,
        "seconds": seconds,
        "notices": sum(by_channel.values()),
        "by_channel": {
            c: by_channel.get(c, 0) for c in (Channel.INBOX, Channel.SMS, Channel.WECHAT)
        },
        "tasks": tasks,
    }


def _count_by(queryset, field: str):
    from django.db.models import Count

    return queryset.values_list(field).annotate(n=Count("pk")).order_by(field)


# ---- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`hongfeng serve` with production settings, its output in a log file."""

    def __init__(self, database_url: str, workers: int):
        self.port = _free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="hongfeng-bench-"))
        self.log_path = self.workdir / "server.log"
        env = {
            **os.environ,
            **BENCH_KEYS,
            "DATABASE_URL": database_url,
            "HONGFENG_ENV": "production",
            "HONGFENG_DEBUG": "false",
            "HONGFENG_TASKS": "database",
            "HONGFENG_ALLOWED_HOSTS": "127.0.0.1",
            "HONGFENG_DATA_DIR": str(self.workdir),
            "HONGFENG_LOG_LEVEL": "WARNING",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        executable = Path(sys.executable).with_name("hongfeng")
        command = [str(executable), "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log = self.log_path.open("wb")
        # fixed arguments, never user input
        self.process = subprocess.Popen(  # noqa: S603
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.workers = workers

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of its workers
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def errors(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(line for line in text.splitlines() if "ERROR" in line or "Trace" in line)


# ---- load ----------------------------------------------------------------------------------


def drive(port: int, requests: list[tuple], clients: int) -> tuple[list[tuple], float]:
    """Send every (method, path, token, body) once from `clients` threads, each keeping its own
    connection (gunicorn's sync workers close it after each response; http.client reopens it).
    Returns (status, milliseconds, parsed body) per request, and the wall time."""
    results: list = [None] * len(requests)
    counter = itertools.count()
    start_gate = threading.Barrier(clients + 1)

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start_gate.wait()
        while (i := next(counter)) < len(requests):
            method, path, token, body = requests[i]
            headers = {
                "Host": "127.0.0.1",
                "Authorization": f"Bearer {token}",
                # as the TLS-terminating proxy in front of production sets it
                "X-Forwarded-Proto": "https",
            }
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            started = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                results[i] = (0, (time.perf_counter() - started) * 1000, {"error": repr(exc)})
                continue
            elapsed = (time.perf_counter() - started) * 1000
            try:
                parsed = json.loads(data) if data else {}
            except ValueError:
                parsed = {"raw": data[:200].decode(errors="replace")}
            results[i] = (status, elapsed, parsed)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    started, cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    drive.client_cpu = (time.process_time() - cpu) / seconds  # cores busy in this process
    return results, seconds


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(name: str, results: list[tuple], seconds: float) -> dict:
    timings = [ms for _, ms, _ in results]
    return {
        "scenario": name,
        "requests": len(results),
        "throughput": len(results) / seconds,
        "p50": statistics.median(timings),
        "p99": _percentile(timings, 99),
        "client_cpu": drive.client_cpu,
    }


def _tally(items) -> dict:
    counts: dict = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def ping_baseline(port: int, tokens: list[str], clients: int) -> dict:
    """Warm every token and worker (each token's first use touches `last_used_at`), then
    measure the no-op: one authenticated ping per token."""
    ping = [("GET", "/api/v1/ping", t, None) for t in tokens]
    drive(port, ping, clients)
    results, seconds = drive(port, ping, clients)
    bad = [r for r in results if r[0] != 200]
    if bad:
        raise RuntimeError(f"ping failed: {bad[:3]}")
    return summarise("ping (baseline)", results, seconds)


def bench_signups(port: int, activity_id: int, tokens: list[str], clients: int) -> dict:
    path = f"/api/v1/activities/{activity_id}/signup"
    results, seconds = drive(port, [("POST", path, t, None) for t in tokens], clients)
    row = summarise("sign-up (capacity 300)", results, seconds)
    outcome = _tally(
        body.get("status") if status == 200 else f"{status} {body.get('code', '')}".strip()
        for status, _, body in results
    )
    row["accepted"] = outcome.get("confirmed", 0)
    row["outcome"] = outcome
    return row


def bench_checkins(port: int, activity_id: int, tokens: list[str], clients: int) -> dict:
    path = f"/api/v1/activities/{activity_id}/checkins"
    requests = [
        (
            "POST",
            path,
            t,
            {
                "kind": "in",
                "client_id": str(uuid.uuid4()),
                "latitude": LAT + 0.0003,
                "longitude": LON - 0.0002,
                "accuracy_m": 12,
            },
        )
        for t in tokens
    ]
    results, seconds = drive(port, requests, clients)
    row = summarise("check-in (GPS, 2,000 confirmed)", results, seconds)
    outcome = _tally(
        "created" if status == 201 else f"{status} {body.get('code', '')}".strip()
        for status, _, body in results
    )
    row["accepted"] = outcome.get("created", 0)
    row["outcome"] = outcome
    return row


# ---- main ----------------------------------------------------------------------------------


def _table(rows: list[tuple[dict, dict]]) -> str:
    lines = [
        "| scenario | requests | accepted | throughput req/s | p50 ms | p99 ms "
        "| baseline req/s | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, base in rows:
        lines.append(
            f"| {row['scenario']} | {row['requests']:,} | {row['accepted']:,} "
            f"| {row['throughput']:,.0f} | {row['p50']:.1f} | {row['p99']:.1f} "
            f"| {base['throughput']:,.0f} | {row['throughput'] / base['throughput']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hongfeng_bench_act"
        ),
    )
    parser.add_argument("--members", type=int, default=10_000, help="bench members (fan-out)")
    parser.add_argument("--requests", type=int, default=2000, help="distinct members per run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    if args.clients < 32:
        sys.exit("issue 4 asks for 32 or more concurrent clients")
    if args.members < args.requests:
        sys.exit("--members must be at least --requests")
    os.environ.update(BENCH_KEYS)  # the same keys as the server (see the module docstring)
    from bench.members import _setup

    _setup(args.database_url)
    from hongfeng.core import demo

    cast = demo.build() if demo.is_empty() else demo.load()
    print(f"database: {args.database_url.rsplit('@', 1)[-1]}, {os.cpu_count()} cores")
    started = time.perf_counter()
    group = bench_group(cast)
    user_ids = ensure_members(cast, group, args.members)
    print(f"bench members: {len(user_ids):,} (ready in {time.perf_counter() - started:.1f} s)")

    fan = bench_fanout(cast, group)
    per_person = fan["notices"] / max(fan["reached"], 1)
    print(
        f"fan-out: {fan['eligible']:,} eligible, {fan['reached']:,} reached, "
        f"{fan['notices']:,} notices ({per_person:.0f} per person: {fan['by_channel']}) "
        f"in {fan['seconds']:.2f} s; delivery queued as {fan['tasks']}  "
        f"(target < 5 s: {'OK' if fan['seconds'] < 5 else 'MISSED'})",
        flush=True,
    )

    from django.db import connections

    signup_users = user_ids[: args.requests]
    tokens = issue_tokens(signup_users)
    signup_activity = new_activity(
        cast,
        group,
        title="压测：报名",
        capacity=SIGNUP_CAPACITY,
        starts_in=timedelta(days=1),
    )
    open_without_broadcast(cast, signup_activity)
    checkin_activity = new_activity(
        cast, group, title="压测：签到", capacity=args.requests, starts_in=timedelta(minutes=10)
    )
    open_without_broadcast(cast, checkin_activity)
    confirm_all(checkin_activity, signup_users)
    connections.close_all()

    server = Server(args.database_url, args.workers)
    try:
        server.wait_ready()
        print(
            f"server: hongfeng serve (gunicorn, {args.workers} sync workers, production "
            f"settings) on port {server.port}; {args.clients} clients",
            flush=True,
        )
        base_signup = ping_baseline(server.port, tokens, args.clients)
        signup = bench_signups(server.port, signup_activity.pk, tokens, args.clients)
        base_checkin = ping_baseline(server.port, tokens, args.clients)
        checkin = bench_checkins(server.port, checkin_activity.pk, tokens, args.clients)
    finally:
        server.stop()
    rows = [(signup, base_signup), (checkin, base_checkin)]
    print()
    print(_table(rows))
    print()
    for row, base in rows:
        ratio = row["throughput"] / base["throughput"]
        print(
            f"{row['scenario']}: outcome {row['outcome']}; baseline p50 {base['p50']:.1f} ms, "
            f"p99 {base['p99']:.1f} ms; load generator used {row['client_cpu']:.2f} cores "
            f"(baseline {base['client_cpu']:.2f}) of {os.cpu_count()}; "
            f"{args.clients} clients / throughput = {args.clients / row['throughput'] * 1e3:.0f} ms"
            f" mean latency by Little's law; ratio ≥ 0.4: {'OK' if ratio >= 0.4 else 'MISSED'}, "
            f"p99 < 150 ms: {'OK' if row['p99'] < 150 else 'MISSED'}"
        )
    _verify(signup_activity.pk, checkin_activity.pk)
    errors = server.errors()
    if errors:
        print(f"server errors (log {server.log_path}):\n{errors[:3000]}")
    else:
        shutil.rmtree(server.workdir, ignore_errors=True)


def _verify(signup_id: int, checkin_id: int) -> None:
    """What the database says, beside what the clients were told."""
    from hongfeng.activities.models import Activity, CheckIn, Participation

    signup = Activity.objects.get(pk=signup_id)
    confirmed = Participation.objects.filter(activity_id=signup_id, status="confirmed").count()
    waiting = Participation.objects.filter(activity_id=signup_id, status="waitlisted").count()
    checkins = CheckIn.objects.filter(activity_id=checkin_id).count()
    print(
        f"database: sign-up activity {signup_id}: confirmed_count {signup.confirmed_count}, "
        f"confirmed rows {confirmed}, waitlisted rows {waiting} (limit {signup.waitlist_limit}); "
        f"check-in activity {checkin_id}: {checkins} check-ins"
    )
    if confirmed != SIGNUP_CAPACITY or signup.confirmed_count != SIGNUP_CAPACITY:
        print("ACCEPTED IS NOT EXACTLY 300")


if __name__ == "__main__":
    main()
