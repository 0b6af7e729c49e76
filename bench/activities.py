"""Scenario (a): activity sign-up burst and check-ins against the production server, beside the
same server's authenticated no-op `GET /api/v1/ping`; and the broadcast fan-out in process.

Run by `python -m bench` (see bench/__main__.py). With --clients (default 32) concurrent
clients, each request from a distinct member with its own bearer token:
  - N sign-ups (default 2,000) for one fresh activity of capacity 300 (+ waitlist 50) —
    accepted must be exactly 300;
  - N GPS check-ins to a fresh activity where the same N are confirmed;
each beside the no-op ping with the same clients and tokens — the sign-up burst after a ping
run, the check-ins alternating with the ping in four slices — target ratio ≥ 0.4 and
p99 < 150 ms (issue 4 and 6). The fan-out publishes an activity to the whole
sign-up group and times `run_broadcast` as the task worker runs it — target under 5 s for
10,000 members; delivery to the outside channels is queued as chunk tasks on the database
queue (counted, then removed: nobody is messaged).
"""

import secrets
import time
import uuid
from datetime import timedelta

from bench.harness import CpuMeter, bearer, describe_cpu, drive, latency, tally
from bench.report import Row

SIGNUP_CAPACITY = 300
LAT, LON = 30.2741, 120.1551


# ---- preparation (in process) --------------------------------------------------------------


def issue_tokens(user_ids: list[int]) -> list[str]:
    """A fresh bearer token for each user — what `issue_api_token` writes (token row + audit
    event), in bulk."""
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


def new_activity(actor, unit, audience, *, title: str, capacity: int, starts_in: timedelta):
    """A fresh draft activity of `unit` for the members of `audience`."""
    from django.utils import timezone

    from hongfeng.activities import services
    from hongfeng.activities.models import ActivityKind

    starts = timezone.now() + starts_in
    return services.create_activity(
        actor=actor,
        unit=unit,
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


def open_without_broadcast(actor, activity) -> None:
    """Published, but without the broadcast (the fan-out is measured on its own): the sign-up
    and check-in runs then measure only their own requests."""
    from django.utils import timezone

    from hongfeng.activities import services
    from hongfeng.activities.models import Activity, ActivityStatus

    services.transition(activity=activity, to=ActivityStatus.PUBLISHED, actor=actor)
    Activity.objects.filter(pk=activity.pk).update(published_at=timezone.now())


def confirm_all(activity, user_ids: list[int]) -> None:
    """Everyone signed up and confirmed (what the sign-ups leave behind), in bulk."""
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


def _count_by(queryset, column: str):
    from django.db.models import Count

    return queryset.values_list(column).annotate(n=Count("pk")).order_by(column)


def bench_fanout(actor, unit, audience, sampler) -> Row:
    """Publish to `audience` and time the broadcast as the task worker runs it."""
    from django.test.utils import override_settings
    from django_tasks_db.models import DBTaskResult

    from hongfeng.activities import services
    from hongfeng.notices.models import Channel, Notice

    activity = new_activity(
        actor, unit, audience, title="压测：一呼百应", capacity=100, starts_in=timedelta(days=1)
    )
    eligible = services.eligible_members(activity).count()
    database_queue = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    queued_before = set(DBTaskResult.objects.values_list("pk", flat=True))
    with override_settings(TASKS=database_queue):
        # As in production: publishing queues one broadcast task; the worker then runs it.
        services.publish_activity(actor=actor, activity=activity)
        sampler.reset()
        started = time.perf_counter()
        reached = services.run_broadcast(activity.pk)
        seconds = time.perf_counter() - started
        rss = sampler.peak()
    by_channel = dict(_count_by(Notice.objects.filter(ref=f"activity:{activity.pk}"), "channel"))
    queued = DBTaskResult.objects.exclude(pk__in=queued_before)
    tasks = {path.rsplit(".", 1)[-1]: n for path, n in _count_by(queued, "task_path")}
    queued.delete()  # nobody is messaged: the bench's deliveries never run
    notices = sum(by_channel.values())
    full = eligible >= 10_000
    return Row(
        scenario="a3 broadcast fan-out (in process)",
        work=f"{eligible:,} eligible → {notices:,} notices",
        seconds=seconds,
        throughput=notices / seconds,
        rate_unit="notices/s",
        rss=rss,
        rss_of="bench",
        target="< 5 s for 10,000" if full else "(< 5 s at 10,000)",
        ok=(seconds < 5) if full else None,
        notes=[
            f"{reached:,} reached, by channel "
            + str({c: by_channel.get(c, 0) for c in (Channel.INBOX, Channel.SMS, Channel.WECHAT)})
            + f"; delivery queued as {tasks}"
        ],
    )


# ---- over HTTP -----------------------------------------------------------------------------


def ping_baseline(server, tokens: list[str], clients: int) -> dict:
    """Warm every token and worker first (each token's first use touches `last_used_at`), then
    measure the no-op: one authenticated ping per token."""
    ping = [("GET", "/api/v1/ping", bearer(t), None) for t in tokens]
    drive(server.port, ping, clients)
    return _ping_base(*_driven(server, ping, clients))


def _ping_base(results: list, seconds: float, cpu: dict) -> dict:
    """The ping's figures as a baseline (its throughput, CPU per request and latencies); a ping
    that failed stops the bench."""
    bad = [r for r in results if r[0] != 200]
    if bad:
        raise RuntimeError(f"ping failed: {bad[:3]}")
    return {
        "throughput": len(results) / seconds,
        "cpu": cpu,
        **latency([ms for _, ms, _ in results]),
    }


# Check-ins and their ping run in this many alternating slices (see _alternating).
ROUNDS = 4


def _alternating(server, pings: list[tuple], work: list[tuple], clients: int):
    """The ping and the measured requests in ROUNDS alternating slices (ping, work, ping,
    work, …), each side's figures summed over its slices: a machine whose speed drifts during
    a run (this one's moved by ±30 % between identical runs) then slows or speeds both sides
    alike, and the ratio compares like with like. Returns the ping's baseline (`_ping_base`),
    and the work's results, seconds and CPU per request."""
    sides = {"ping": [[], 0.0, {}], "work": [[], 0.0, {}]}
    for k in range(ROUNDS):
        for side, requests in (("ping", pings), ("work", work)):
            part = requests[k * len(requests) // ROUNDS : (k + 1) * len(requests) // ROUNDS]
            results, seconds, spent = _driven(server, part, clients)
            total = sides[side]
            total[0] += results
            total[1] += seconds
            for group, ms in spent.items():  # CPU per request, weighted by the slice's size
                total[2][group] = total[2].get(group, 0.0) + ms * len(part)
    for total in sides.values():
        total[2] = {group: ms / max(len(total[0]), 1) for group, ms in total[2].items()}
    return _ping_base(*sides["ping"]), *sides["work"]


def _driven(server, requests: list[tuple], clients: int) -> tuple[list, float, dict]:
    """`drive` with the CPU it cost per request."""
    meter = CpuMeter(server)
    before = meter.start()
    results, seconds = drive(server.port, requests, clients)
    return results, seconds, meter.per_request(before, len(requests))


def _cpu_note(row, spent: dict, base: dict) -> None:
    row.notes.append(f"{describe_cpu(spent)}; the ping's: {describe_cpu(base['cpu'])}")


def _http_row(scenario: str, results, seconds: float, base: dict, rss: float) -> Row:
    stats = latency([ms for _, ms, _ in results])
    throughput = len(results) / seconds
    ratio = throughput / base["throughput"]
    return Row(
        scenario=scenario,
        work="",
        seconds=seconds,
        throughput=throughput,
        p50=stats["p50"],
        p95=stats["p95"],
        p99=stats["p99"],
        rss=rss,
        baseline=f"ping {base['throughput']:,.0f} req/s",
        ratio=ratio,
    )


def bench_signups(server, activity_id: int, tokens: list[str], clients: int, base: dict) -> Row:
    """One sign-up per token, all at once, for an activity of capacity 300."""
    path = f"/api/v1/activities/{activity_id}/signup"
    server.memory.reset()
    results, seconds, spent = _driven(
        server, [("POST", path, bearer(t), None) for t in tokens], clients
    )
    row = _http_row("a1 sign-up burst (one activity)", results, seconds, base, server.memory.peak())
    outcome = tally(
        body.get("status") if status == 200 else f"{status} {body.get('code', '')}".strip()
        for status, _, body in results
    )
    accepted = outcome.get("confirmed", 0)
    row.work = f"{len(tokens):,} sign-ups → {accepted:,} accepted (capacity {SIGNUP_CAPACITY})"
    row.target = f"ratio ≥ 0.4, p99 < 150 ms, exactly {SIGNUP_CAPACITY} accepted"
    row.ok = row.ratio >= 0.4 and row.p99 < 150
    row.notes.append(f"outcome {outcome}; ping p50 {base['p50']:.1f} ms, p99 {base['p99']:.1f} ms")
    if accepted != SIGNUP_CAPACITY:
        row.fail(f"ACCEPTED {accepted}, NOT EXACTLY {SIGNUP_CAPACITY}")
    row.notes.append(
        f"{clients} clients / throughput = {clients / row.throughput * 1e3:.0f} ms mean latency "
        "(Little's law)"
    )
    _cpu_note(row, spent, base)
    return row


def bench_checkins(server, activity_id: int, tokens: list[str], clients: int) -> Row:
    """One GPS check-in per token to an activity where all of them are confirmed, alternating
    with the ping (one per token) in ROUNDS slices."""
    path = f"/api/v1/activities/{activity_id}/checkins"
    requests = [
        (
            "POST",
            path,
            bearer(t),
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
    server.memory.reset()
    pings = [("GET", "/api/v1/ping", bearer(t), None) for t in tokens]
    base, results, seconds, spent = _alternating(server, pings, requests, clients)
    row = _http_row("a2 GPS check-ins", results, seconds, base, server.memory.peak())
    outcome = tally(
        "created" if status == 201 else f"{status} {body.get('code', '')}".strip()
        for status, _, body in results
    )
    created = outcome.get("created", 0)
    row.work = f"{len(tokens):,} check-ins → {created:,} stored"
    row.target = "ratio ≥ 0.4, p99 < 150 ms, all stored"
    row.ok = row.ratio >= 0.4 and row.p99 < 150
    row.notes.append(
        f"outcome {outcome}; ping p50 {base['p50']:.1f} ms, p99 {base['p99']:.1f} ms; "
        f"check-ins and pings in {ROUNDS} alternating slices"
    )
    if created != len(tokens):
        row.fail(f"ONLY {created:,} OF {len(tokens):,} CHECK-INS STORED")
    _cpu_note(row, spent, base)
    return row


def database_says(signup_id: int, checkin_id: int) -> dict:
    """What the database holds after the runs, beside what the clients were told."""
    from hongfeng.activities.models import Activity, CheckIn, Participation

    signup = Activity.objects.get(pk=signup_id)
    rows = Participation.objects.filter(activity_id=signup_id)
    return {
        "confirmed_count": signup.confirmed_count,
        "confirmed": rows.filter(status="confirmed").count(),
        "waitlisted": rows.filter(status="waitlisted").count(),
        "waitlist_limit": signup.waitlist_limit,
        "checkins": CheckIn.objects.filter(activity_id=checkin_id).count(),
        "distinct_checkins": CheckIn.objects.filter(activity_id=checkin_id)
        .values("member_id")
        .distinct()
        .count(),
    }


def prepare_runs(cast, user_ids: list[int]) -> dict:
    """Tokens for the sign-up members and two fresh activities: one of capacity 300 to sign up
    for, one starting in ten minutes where all of them are confirmed, to check in to."""
    actor, team, group = (
        cast.users["county_admin"],
        cast.units["signup_team"],
        cast.units["signup_group"],
    )
    tokens = issue_tokens(user_ids)
    signup = new_activity(
        actor,
        team,
        group,
        title="压测：报名",
        capacity=SIGNUP_CAPACITY,
        starts_in=timedelta(days=1),
    )
    open_without_broadcast(actor, signup)
    checkin = new_activity(
        actor,
        team,
        group,
        title="压测：签到",
        capacity=len(user_ids),
        starts_in=timedelta(minutes=10),
    )
    open_without_broadcast(actor, checkin)
    confirm_all(checkin, user_ids)
    return {"tokens": tokens, "signup": signup.pk, "checkin": checkin.pk}


def run_http(server, runs: dict, clients: int) -> list[Row]:
    """Ping, then the sign-up burst (one burst, as 一呼百应 sends it); then check-ins alternating
    with the ping (a steady flow: see _alternating)."""
    tokens = runs["tokens"]
    base = ping_baseline(server, tokens, clients)
    signup = bench_signups(server, runs["signup"], tokens, clients, base)
    checkin = bench_checkins(server, runs["checkin"], tokens, clients)
    return [signup, checkin]


def check_database(rows: list[Row], runs: dict) -> None:
    """Compare the database with what the clients were told; a disagreement fails the row."""
    facts = database_says(runs["signup"], runs["checkin"])
    signup, checkin = rows
    signup.notes.append(
        f"database: confirmed_count {facts['confirmed_count']}, {facts['confirmed']} confirmed "
        f"rows, {facts['waitlisted']} waitlisted (limit {facts['waitlist_limit']})"
    )
    if not facts["confirmed"] == facts["confirmed_count"] == SIGNUP_CAPACITY:
        signup.fail(f"ACCEPTED IS NOT EXACTLY {SIGNUP_CAPACITY} IN THE DATABASE")
    checkin.notes.append(
        f"database: {facts['checkins']:,} check-ins of {facts['distinct_checkins']:,} members"
    )
    if facts["checkins"] != facts["distinct_checkins"]:
        checkin.fail("A MEMBER WAS CHECKED IN TWICE")


if __name__ == "__main__":
    # The per-issue command of old, now a subset of the one bench: `python -m bench --only a`.
    import sys

    from bench.__main__ import main

    sys.exit(main(["--only", "a", *sys.argv[1:]]))
