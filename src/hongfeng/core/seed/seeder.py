"""The seeder: the tower, then team by team its people, activities, check-ins, hours and
points, through the writer."""

import queue
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from random import Random

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.activities.models import (
    CHECKOUT_GRACE,
    Activity,
    ActivityKind,
    ActivityStatus,
    ActivityStatusChange,
    CheckIn,
    CheckInKind,
    CheckInMethod,
    Difficulty,
    HoursEntry,
    HoursSource,
    Participation,
    ParticipationStatus,
)
from hongfeng.core import crypto
from hongfeng.core.seed.plan import (
    _HOURS,
    _MINUTES,
    _SECONDS,
    _Person,
    _place_names,
    _Plan,
    _split,
    _Unit,
)
from hongfeng.core.seed.scales import (
    _ACTIVITY_TITLES,
    _CATEGORIES,
    _DIFFICULTIES,
    _EFFECTS,
    _INSURERS,
    _KINDS,
    _LATER_CHANGES,
    _LEADER_ROLES,
    _PLACE,
    _POLITICAL,
    _QUALITIES,
    _STATUSES,
    DEFAULT_LABEL,
    GROUPS_PER_SQUAD,
    SCALES,
    SQUADS_PER_TEAM,
    STATIONS_PER_COUNTY,
    AlreadySeeded,
    Dice,
    id_number_for,
    is_seeded,
    mobile_for,
    person_name,
    root_name,
    seeded_pinyin,
)
from hongfeng.core.seed.writing import Progress, Table, Writer
from hongfeng.members.catalogue import SKILLS
from hongfeng.members.models import (
    EquipmentIssue,
    EquipmentKind,
    InsurancePolicy,
    Member,
    MemberStatus,
    Skill,
    StatusChange,
)
from hongfeng.members.services.files import ID_INDEX, id_number_index
from hongfeng.orgs.models import Unit, UnitKind
from hongfeng.points import rules
from hongfeng.points.models import MemberPoints, PointsEntry, Source


class Seeder:
    """Generates one scale for one seed; `run()` does it all in one transaction."""

    def __init__(self, scale: str, seed: int, write: Callable[[str], None] | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}")
        if not 0 <= seed <= 99:
            raise ValueError("seed must be 0–99")
        self.scale_name, self.scale, self.seed = scale, SCALES[scale], seed
        # Deterministic test data, not security: the same seed must give the same rows.
        self.rng = Dice(seed)
        self.write = write or partial(print, flush=True)
        self.progress = Progress(self.write)
        self.writer = Writer(self.progress)
        self.now = timezone.now().replace(minute=0, second=0, microsecond=0)
        self.zone = timezone.get_current_timezone()
        self.today = timezone.localtime(self.now, self.zone).date()
        self.person = 0  # running number for mobiles and ID numbers
        # One unusable password value for every seeded account (see the module docstring):
        # make_password(None) costs ≈ 0.3 ms, a minute at province scale.
        self.password = make_password(None)
        self._award_cache: dict[tuple, rules.Award] = {}
        self._hours_cache: dict[int, Decimal] = {}
        now = self.now
        t = partial(Table, now=now)
        self.t_unit = t(Unit, ("name", "kind", "parent_id", "path", "depth", "team_id",
                               "guiding_station_id"))  # fmt: skip
        self.t_user = t(
            User, ("mobile", "name", "name_pinyin", "password", "security_stamp", "date_joined")
        )
        self.t_role = t(
            RoleAssignment,
            ("user_id", "role", "unit_id", "granted_by_id", "granted_at", "revoked_by_id",
             "revoked_at", "revoke_reason"),
        )  # fmt: skip
        self.t_member = t(
            Member,
            ("user_id", "unit_id", "name", "name_pinyin", "name_initials", "id_number_encrypted",
             "id_number_index", "id_last4", "birth_date", "gender", "address", "political_status",
             "category", "status", "status_changed_at", "joined_on", "pre_job_training_on",
             "created_at"),
        )  # fmt: skip
        self.t_status = t(
            StatusChange,
            ("member_id", "from_status", "to_status", "reason", "changed_by_id", "changed_at"),
        )
        self.t_skill = t(Member.skills.through, ("member_id", "skill_id"))
        self.t_policy = t(
            InsurancePolicy, ("member_id", "insurer", "policy_number", "starts_on", "ends_on")
        )
        self.t_gear = t(EquipmentIssue, ("member_id", "kind", "issued_on", "returned_on"))
        self.t_activity = t(
            Activity,
            ("kind", "title", "unit_id", "audience_unit_id", "place", "latitude", "longitude",
             "starts_at", "ends_at", "capacity", "confirmed_count", "waitlist_count",
             "difficulty", "risk_assessment", "status", "checkout_due_at", "checkouts_swept_at",
             "effect", "created_by_id", "published_at", "broadcast_done_at", "evaluated_at",
             "created_at"),
        )  # fmt: skip
        self.t_history = t(
            ActivityStatusChange,
            ("activity_id", "from_status", "to_status", "changed_by_id", "changed_at"),
        )
        self.t_participation = t(
            Participation,
            ("activity_id", "member_id", "status", "queued_at", "updated_at", "quality",
             "rated_by_id", "rated_at"),
        )  # fmt: skip
        self.t_checkin = t(
            CheckIn,
            ("activity_id", "member_id", "kind", "method", "client_id", "at", "device_time",
             "received_at", "latitude", "longitude", "accuracy_m", "distance_m",
             "recorded_by_id"),
        )  # fmt: skip
        self.t_hours = t(
            HoursEntry,
            ("activity_id", "member_id", "hours", "source", "recorded_by_id", "recorded_at"),
        )
        self.t_points = t(
            PointsEntry,
            ("member_id", "team_id", "activity_id", "source", "amount", "earned", "rule_label",
             "inputs", "explanation", "key", "created_by_id", "created_at"),
        )  # fmt: skip
        self.t_totals = t(MemberPoints, ("member_id", "earned", "balance", "level"))

    # ---- accounts ----------------------------------------------------------------------------

    def _users(self, people: list[tuple[int, str, datetime]]) -> list[int]:
        """Accounts for (running number, name, joined at); returns their ids."""
        rows = [
            (
                mobile_for(self.scale, self.seed, n),
                name,
                seeded_pinyin(name)[0],
                self.password,
                secrets.token_hex(16),  # as new_security_stamp(): never predictable
                joined_at,
            )
            for n, name, joined_at in people
        ]
        return self.writer.insert(self.t_user, rows, ids=True)

    def _officials(self, units: list[_Unit], role: str) -> None:
        """One account with `role` over each unit (association admins, police officers)."""
        people = []
        for _unit in units:
            self.person += 1
            people.append((self.person, person_name(self.rng), self.now - timedelta(days=800)))
        ids = self._users(people)
        self.writer.insert(
            self.t_role,
            [
                (uid, role, unit.id, self.actor_id, self.now - timedelta(days=800), None, None, "")
                for uid, unit in zip(ids, units, strict=True)
            ],
        )

    # ---- the tower ---------------------------------------------------------------------------

    def _units(self, rows: list[tuple[str, str, _Unit | None, int | None, int | None]]):
        """Insert units given as (name, kind, parent, team id, guiding station id) and give
        them the path and depth `create_unit` would: the parent's path plus "<own id>/", one
        level below the parent (a root: "/<id>/", depth 0). The path needs the new id, so rows
        go in with a placeholder and one UPDATE sets every path from the parent's."""
        marker = f"tmp:{uuid.uuid4().hex}:"
        ids = self.writer.insert(
            self.t_unit,
            [
                (name, kind, parent.id if parent else None, f"{marker}{i}",
                 parent.depth + 1 if parent else 0, team_id, station_id)
                for i, (name, kind, parent, team_id, station_id) in enumerate(rows)
            ],
            ids=True,
        )  # fmt: skip
        self.writer.call(partial(_set_paths, marker))
        return [
            _Unit(
                id=pk,
                name=name,
                kind=kind,
                path=f"{parent.path if parent else '/'}{pk}/",
                depth=parent.depth + 1 if parent else 0,
                team_id=team_id if kind != UnitKind.TEAM else pk,
            )
            for pk, (name, kind, parent, team_id, _s) in zip(ids, rows, strict=True)
        ]

    def build_tower(self) -> list[tuple[_Unit, list[_Unit], list[_Unit]]]:
        """Associations and police line down to the teams with their squads and groups, and
        the officials over them. Returns [(team, [squads…], [groups…])…]."""
        s, rng = self.scale, self.rng
        tag = f"{self.scale_name}·种子{self.seed}"
        self.root, self.bureau = self._units(
            [
                (root_name(self.scale_name, self.seed), UnitKind.PROVINCE_ASSOCIATION, None,
                 None, None),
                (f"压测省公安厅（{tag}）", UnitKind.PROVINCE_BUREAU, None, None, None),
            ]
        )  # fmt: skip
        city_names = _place_names(rng, s.cities, "市")
        cities = self._units(
            [(f"{n}义警协会", UnitKind.CITY_ASSOCIATION, self.root, None, None) for n in city_names]
            + [(f"{n}公安局", UnitKind.CITY_BUREAU, self.bureau, None, None) for n in city_names]
        )
        city_assocs, city_bureaus = cities[: s.cities], cities[s.cities :]
        county_a, county_b = [], []
        for i, per_city in enumerate(_split(s.counties, s.cities)):
            for name in _place_names(rng, per_city, "县"):
                county_a.append(
                    (f"{name}义警协会", UnitKind.COUNTY_ASSOCIATION, city_assocs[i], None, None)
                )
                county_b.append(
                    (f"{name}公安局", UnitKind.COUNTY_BUREAU, city_bureaus[i], None, None)
                )
        counties = self._units(county_a + county_b)
        county_assocs, county_bureaus = counties[: s.counties], counties[s.counties :]
        stations = self._units(
            [
                (f"{name}派出所", UnitKind.STATION, cb, None, None)
                for cb in county_bureaus
                for name in _place_names(rng, STATIONS_PER_COUNTY, "")
            ]
        )
        team_rows = []
        for i, per_county in enumerate(_split(s.teams, s.counties)):
            own = stations[i * STATIONS_PER_COUNTY : (i + 1) * STATIONS_PER_COUNTY]
            for j, name in enumerate(_place_names(rng, per_county, "")):
                station = rng.choice(own)
                team_rows.append(
                    (f"{name}义警总队{j + 1}", UnitKind.TEAM, county_assocs[i], None, station.id)
                )
        teams = self._units(team_rows)
        squads = self._units(
            [
                (f"第{k + 1}分队", UnitKind.SQUAD, team, team.id, None)
                for team in teams
                for k in range(SQUADS_PER_TEAM)
            ]
        )
        groups = self._units(
            [
                (f"第{k + 1}小组", UnitKind.GROUP, squad, squad.team_id, None)
                for squad in squads
                for k in range(GROUPS_PER_SQUAD)
            ]
        )
        self._officials(city_assocs + county_assocs, Role.ASSOCIATION_ADMIN)
        self._officials(county_bureaus, Role.BUREAU_OFFICER)
        self._officials(stations, Role.STATION_OFFICER)
        self._tick("组织架构与各级管理员", force=True)
        g, q = GROUPS_PER_SQUAD, SQUADS_PER_TEAM
        return [
            (team, squads[i * q : (i + 1) * q], groups[i * q * g : (i + 1) * q * g])
            for i, team in enumerate(teams)
        ]

    # ---- one team ----------------------------------------------------------------------------

    def _plan_person(self, unit: _Unit, role: str) -> _Person:
        """Who one member is: identity, status and its history, training, insurance, skills,
        equipment, and the days on which they could serve (all from the one rng)."""
        rng, today = self.rng, self.today
        self.person += 1
        n = self.person
        name = person_name(rng)
        number = id_number_for(self.scale, self.seed, n, rng)
        status = MemberStatus.CORE if role != Role.VOLUNTEER else _STATUSES.pick(rng)
        if status == MemberStatus.PROBATION:
            joined = today - timedelta(days=rng.randint(35, 85))
        elif role != Role.VOLUNTEER:
            joined = today - timedelta(days=rng.randint(800, 1900))
        else:
            joined = today - timedelta(days=rng.randint(400, 1900))
        trained = joined + timedelta(days=rng.randint(3, 30))
        at = partial(self._at, rng)
        history = [("", MemberStatus.PROBATION, at(joined), "登记入队")]
        until = today
        if status != MemberStatus.PROBATION:
            history.append(
                (MemberStatus.PROBATION, MemberStatus.ACTIVE,
                 at(joined + timedelta(days=rng.randint(90, 120))), "见习期满，转为正式队员")
            )  # fmt: skip
        if status == MemberStatus.CORE:
            day = joined + timedelta(days=rng.randint(200, 390))
            history.append((MemberStatus.ACTIVE, status, at(day), "表现突出，评为核心队员"))
        elif status in _LATER_CHANGES:
            (lo, hi), reason = _LATER_CHANGES[status]
            day = today - timedelta(days=rng.randint(lo, hi))
            history.append((MemberStatus.ACTIVE, status, at(day), reason))
            # No service in the 30 days before going inactive or demoted; none after leaving.
            until = day - timedelta(days=30 if status in ("inactive", "demoted") else 1)
        if status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
            ended = history[-1][2].date()
            policies = [(max(ended - timedelta(days=365), joined), ended)]
        else:
            # Insured on the day they joined and without a gap since: a policy running today
            # (at least 35 more days, so an upcoming activity is covered) and the year before.
            start = max(today - timedelta(days=rng.randint(0, 330)), joined)
            policies = [(start, start + timedelta(days=364))]
            if joined < start:
                policies.insert(
                    0, (max(start - timedelta(days=365), joined), start - timedelta(days=1))
                )
        skills = rng.sample(self.skill_ids, rng.choice([0, 0, 1, 1, 1, 2, 2, 3]))
        gear = role != Role.VOLUNTEER or status == MemberStatus.CORE or rng.random() < 0.4
        return _Person(
            n=n, name=name, id_number=number, unit=unit, status=status, role=role,
            joined=joined, trained=trained, history=history, policies=policies, skills=skills,
            gear=gear, since=max(trained, policies[0][0]), until=until,
        )  # fmt: skip

    def _at(self, rng: Random, day: date) -> datetime:
        """An office-hours moment on `day`, never later than the seed's `now`."""
        hour, minute = rng.randint(8, 17), rng.choice([0, 15, 30, 45])
        moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=self.zone)
        return min(moment, self.now)

    def seed_team(self, team: _Unit, squads: list[_Unit], groups: list[_Unit], members: int):
        """Leaders and members of one team with everything in their files, then the team's
        activities. Leaders come first: the captain on the team, one per squad and group."""
        rng = self.rng
        leaders = [team, *squads, *groups][:members]
        people = [self._plan_person(u, _LEADER_ROLES[u.kind]) for u in leaders]
        people += [
            self._plan_person(rng.choice(groups), Role.VOLUNTEER)
            for _ in range(members - len(leaders))
        ]
        user_ids = self._users([(p.n, p.name, p.history[0][2]) for p in people])
        for p, uid in zip(people, user_ids, strict=True):
            p.user_id = uid
        captain = people[0].user_id
        member_rows = []
        for p in people:
            number = p.id_number
            pinyin, initials = seeded_pinyin(p.name)
            member_rows.append(
                (
                    p.user_id, p.unit.id, p.name, pinyin, initials,
                    crypto.encrypt(number, field=ID_INDEX), id_number_index(number), number[-4:],
                    date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                    "male" if int(number[16]) % 2 else "female",
                    f"{team.name}辖区{rng.choice(_PLACE)}{rng.randint(1, 300)}号",
                    _POLITICAL.pick(rng), _CATEGORIES.pick(rng),
                    p.status, p.history[-1][2], p.joined, p.trained, p.history[0][2],
                )
            )  # fmt: skip
        member_ids = self.writer.insert(self.t_member, member_rows, ids=True)
        for p, mid in zip(people, member_ids, strict=True):
            p.member_id = mid
        w = self.writer
        w.insert(
            self.t_status,
            [
                (p.member_id, frm, to, reason, captain, changed)
                for p in people
                for frm, to, changed, reason in p.history
            ],
        )
        w.insert(self.t_role, [self._role_row(p, captain) for p in people])
        w.insert(self.t_skill, [(p.member_id, s) for p in people for s in p.skills])
        w.insert(
            self.t_policy,
            [
                (p.member_id, _INSURERS[p.n % len(_INSURERS)],
                 f"YW{self.scale.code}{self.seed:02d}{p.n:06d}-{k + 1}", start, end)
                for p in people
                for k, (start, end) in enumerate(p.policies)
            ],
        )  # fmt: skip
        gear_rows = []
        for p in people:
            returned = p.until + timedelta(days=1) if p.status == MemberStatus.EXITED else None
            gear_rows.append((p.member_id, EquipmentKind.UNIFORM, p.trained, returned))
            if p.gear:
                gear_rows.append((p.member_id, EquipmentKind.PROTECTIVE_GEAR, p.trained, returned))
        w.insert(self.t_gear, gear_rows)
        self._past_activities(team, people, captain)
        self._upcoming_activity(team, people, captain)
        w.insert(
            self.t_totals,
            [(p.member_id, p.earned, p.earned, rules.level_of(p.earned)) for p in people],
        )

    def _role_row(self, p: _Person, captain: int) -> tuple:
        """The member's role in the team (as register_member grants it); a suspension or exit
        ended it (as change_status does), so the row is kept as revoked history."""
        granted = p.history[0][2] if p.role == Role.VOLUNTEER else p.history[-1][2]
        granted_by = self.actor_id if p.role == Role.CAPTAIN else captain
        if p.status in (MemberStatus.SUSPENDED, MemberStatus.EXITED):
            _from, _to, at, reason = p.history[-1]
            return (p.user_id, p.role, p.unit.id, granted_by, granted, captain, at, reason)
        return (p.user_id, p.role, p.unit.id, granted_by, granted, None, None, "")

    def _award(self, hours: Decimal, difficulty: str, quality: str) -> rules.Award:
        key = (hours, difficulty, quality)
        award = self._award_cache.get(key)
        if award is None:
            award = self._award_cache[key] = rules.activity_points(
                rules.DEFAULT, hours=hours, difficulty=difficulty, quality=quality
            )
        return award

    def _hours(self, seconds: int) -> Decimal:
        hours = self._hours_cache.get(seconds)
        if hours is None:
            hours = self._hours_cache[seconds] = _seconds_to_hours(seconds)
        return hours

    def _past_activities(self, team: _Unit, people: list[_Person], captain: int) -> None:
        """Evaluated activities of the past year until the team's members hold five confirmed
        participations each on average (so check-ins come to exactly ten per member). Only
        members who could serve that day are picked (trained, insured, not yet gone; protective
        gear for high-risk tasks); about one activity in ten was full and kept a short
        waitlist. This loop writes most of the seed's rows, so it avoids per-row object work:
        timedeltas come from tables, draws from `Dice`."""
        rng, now, w = self.rng, self.now, self.writer
        r = rng.random
        target = len(people) * self.scale.checkins_per_member // 2
        # Most people could serve on any day of the past year; only the others are checked
        # against each activity's day.
        earliest = self.today - timedelta(days=362)
        steady = [p for p in people if p.since <= earliest and p.until >= self.today]
        steady_gear = [p for p in steady if p.gear]
        limited = [p for p in people if not (p.since <= earliest and p.until >= self.today)]
        plans: list[_Plan] = []
        booked = misses = 0
        while booked < target:
            kind = rng.choice(_KINDS)
            starts = now - timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 12))
            ends = starts + _HOURS[rng.choice((2, 3, 4))]
            difficulty = _DIFFICULTIES.pick(rng)
            first = timezone.localtime(starts, self.zone).date()
            last = timezone.localtime(ends, self.zone).date()
            high_risk = difficulty == Difficulty.HIGH_RISK
            pool = (steady_gear if high_risk else steady) + [
                p
                for p in limited
                if p.since <= first and last <= p.until and (p.gear or not high_risk)
            ]
            if not pool:
                misses += 1
                if misses > 1000:  # nobody can ever serve: stop rather than spin
                    break
                continue
            size = min(len(pool), rng.randint(8, 20), target - booked)
            confirmed = rng.sample(pool, size)
            waitlisted: list[_Person] = []
            if r() < 0.1 and len(pool) > size:
                taken = {p.n for p in confirmed}
                rest = [p for p in pool if p.n not in taken]
                waitlisted = rng.sample(rest, min(len(rest), rng.randint(1, 3)))
                capacity = size
            else:
                capacity = size + rng.randint(0, 5)
            plans.append(
                _Plan(kind=kind, starts=starts, ends=ends, difficulty=difficulty,
                      capacity=capacity, lat=30.0 + r(), lon=120.0 + r(),
                      effect=rng.choice(_EFFECTS), confirmed=confirmed, waitlisted=waitlisted)
            )  # fmt: skip
            booked += size
        activity_ids = w.insert(
            self.t_activity, [plan.row(team, captain) for plan in plans], ids=True
        )
        history, participations, checkins, hours_rows, points_rows = [], [], [], [], []
        gps, qr, confirmed_status = (
            CheckInMethod.GPS,
            CheckInMethod.QR,
            ParticipationStatus.CONFIRMED,
        )
        checked_in, checked_out = CheckInKind.IN, CheckInKind.OUT
        getrandbits, new_uuid = rng.getrandbits, uuid.UUID
        for activity_id, plan in zip(activity_ids, plans, strict=True):
            title, lat, lon = _ACTIVITY_TITLES[plan.kind], plan.lat, plan.lon
            starts, ends, difficulty = plan.starts, plan.ends, plan.difficulty
            published, rated_at = plan.published, plan.evaluated
            history += [
                (activity_id, "", ActivityStatus.DRAFT, captain, plan.created),
                (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
                # The sweep moves an activity along the clock (changed_by NULL = the platform).
                (activity_id, ActivityStatus.PUBLISHED, ActivityStatus.IN_PROGRESS, None, starts),
                (activity_id, ActivityStatus.IN_PROGRESS, ActivityStatus.FINISHED, None, ends),
                (activity_id, ActivityStatus.FINISHED, ActivityStatus.EVALUATED, captain, rated_at),
            ]  # fmt: skip
            for p in plan.confirmed:
                member_id = p.member_id
                quality = _QUALITIES.pick(rng)
                queued = published + _MINUTES[rng.randint(1, 600)]
                participations.append(
                    (activity_id, member_id, confirmed_status, queued, rated_at, quality, captain,
                     rated_at)
                )  # fmt: skip
                # Inside the window: in up to 20 minutes late, out up to 20 minutes early.
                at_in = starts + _MINUTES[int(r() * 21)]
                at_out = ends - _MINUTES[int(r() * 21)]
                checkins.append(
                    (activity_id, member_id, checked_in, gps if r() < 0.8 else qr,
                     new_uuid(int=getrandbits(128)), at_in, at_in, at_in + _SECONDS[int(r() * 30)],
                     lat, lon, float(5 + int(r() * 36)), float(int(r() * 201)), p.user_id)
                )  # fmt: skip
                checkins.append(
                    (activity_id, member_id, checked_out, gps if r() < 0.8 else qr,
                     new_uuid(int=getrandbits(128)), at_out, at_out,
                     at_out + _SECONDS[int(r() * 30)], lat, lon, float(5 + int(r() * 36)),
                     float(int(r() * 201)), p.user_id)
                )  # fmt: skip
                hours = self._hours(int((at_out - at_in).total_seconds()))
                hours_rows.append(
                    (activity_id, member_id, hours, HoursSource.CHECKINS, captain, rated_at)
                )
                award = self._award(hours, difficulty, quality)
                points_rows.append(
                    (member_id, p.unit.team_id_or_self, activity_id, Source.ACTIVITY, award.points,
                     award.points, DEFAULT_LABEL, award.inputs,
                     f"{title}：{award.explanation}"[:300], f"activity:{activity_id}:{member_id}",
                     captain, rated_at)
                )  # fmt: skip
                p.earned += award.points
            for p in plan.waitlisted:  # still waiting when the activity ran; never promoted
                queued = published + _HOURS[rng.randint(12, 60)]
                participations.append(
                    (activity_id, p.member_id, ParticipationStatus.WAITLISTED, queued, queued,
                     "", None, None)
                )  # fmt: skip
        w.insert(self.t_history, history)
        w.insert(self.t_participation, participations)
        w.insert(self.t_checkin, checkins)
        w.insert(self.t_hours, hours_rows)
        w.insert(self.t_points, points_rows)

    def _upcoming_activity(self, team: _Unit, people: list[_Person], captain: int) -> None:
        """One published patrol next week with its sign-ups (full, with a waitlist, in one
        team of three), so home pages and activity lists have something open. Its broadcast
        counts as done, so the sweep does not send one for every seeded team."""
        rng, now = self.rng, self.now
        starts = now + timedelta(days=rng.randint(3, 10), hours=rng.randint(0, 8))
        ends = starts + timedelta(hours=3)
        published = now - timedelta(days=rng.randint(1, 2))
        pool = [p for p in people if p.status in (MemberStatus.ACTIVE, MemberStatus.CORE)]
        capacity = rng.randint(15, 30)
        size = min(len(pool), rng.randint(capacity // 2, capacity + 4))
        chosen = rng.sample(pool, size)
        confirmed, waitlisted = chosen[:capacity], chosen[capacity:]
        kind = ActivityKind.PATROL
        (activity_id,) = self.writer.insert(
            self.t_activity,
            [
                (kind, _ACTIVITY_TITLES[kind], team.id, team.id, f"{team.name}辖区",
                 30.0 + rng.random(), 120.0 + rng.random(), starts, ends, capacity,
                 len(confirmed), len(waitlisted), Difficulty.NORMAL, "", ActivityStatus.PUBLISHED,
                 ends + CHECKOUT_GRACE, None, "", captain, published, published, None,
                 published - timedelta(hours=1))
            ],
            ids=True,
        )  # fmt: skip
        self.writer.insert(
            self.t_history,
            [
                (activity_id, "", ActivityStatus.DRAFT, captain, published - timedelta(hours=1)),
                (activity_id, ActivityStatus.DRAFT, ActivityStatus.PUBLISHED, captain, published),
            ],
        )
        rows = []
        for i, p in enumerate(confirmed + waitlisted):
            queued = min(published + timedelta(minutes=5 * i + rng.randint(0, 4)), now)
            status = (
                ParticipationStatus.CONFIRMED if i < capacity else ParticipationStatus.WAITLISTED
            )
            rows.append((activity_id, p.member_id, status, queued, queued, "", None, None))
        self.writer.insert(self.t_participation, rows)

    # ---- the whole run -----------------------------------------------------------------------

    def _skills(self) -> list[int]:
        """The skill catalogue's ids (a flushed test database has lost the migration's rows)."""
        for code, name in SKILLS:
            Skill.objects.get_or_create(code=code, defaults={"name": name})
        return list(
            Skill.objects.filter(code__in=[c for c, _ in SKILLS])
            .order_by("code")
            .values_list("pk", flat=True)
        )

    def _tick(self, label: str, *, force: bool = False) -> None:
        """A progress line once the rows generated so far are written."""
        self.writer.call(partial(self.progress.tick, label, force=force))

    def generate(self) -> None:
        """Every row, in an order where nothing points at a row not yet sent."""
        (self.actor_id,) = self._users([(0, "压测管理员", self.now - timedelta(days=900))])
        teams = self.build_tower()
        self.writer.insert(
            self.t_role,
            [(self.actor_id, Role.ASSOCIATION_ADMIN, self.root.id, None,
              self.now - timedelta(days=900), None, None, "")],
        )  # fmt: skip
        per_team = _split(self.scale.members, len(teams))
        for i, ((team, squads, groups), members) in enumerate(
            zip(teams, per_team, strict=True), start=1
        ):
            self.seed_team(team, squads, groups, members)
            self._tick(f"第 {i}/{len(teams)} 支总队（{team.name}）")
        self.writer.flush()

    def _generate_in_thread(self) -> None:
        """`generate` on a second thread feeding `Writer.consume` on this one (PostgreSQL)."""
        writer = self.writer
        writer.queue = queue.Queue(maxsize=Writer.QUEUE_TASKS)

        def produce() -> None:
            try:
                self.generate()
                writer.queue.put(None)
            except BaseException as exc:  # handed to the consumer, which raises it
                if not writer.failed.is_set():
                    writer.queue.put(exc)
            finally:
                connection.close()  # this thread's own connection (sequence draws only)

        thread = threading.Thread(target=produce, name="seed-generator", daemon=True)
        thread.start()
        try:
            writer.consume()
        finally:
            writer.failed.set()  # a no-op after success; stops the generator after a failure
            thread.join()
            writer.queue = None

    def run(self) -> Progress:
        """Everything, in one transaction; refuses a scale and seed already in the database."""
        if is_seeded(self.scale_name, self.seed):
            raise AlreadySeeded(
                f"数据库中已有 {self.scale_name} 规模、种子 {self.seed} 的压测数据"
                f"（「{root_name(self.scale_name, self.seed)}」），未做任何改动。"
            )
        postgres = connection.vendor == "postgresql"
        self.skill_ids = self._skills()
        with transaction.atomic():
            if postgres:
                # Django declares foreign keys DEFERRABLE INITIALLY DEFERRED: in one long
                # transaction every check would queue up until COMMIT (memory in the server,
                # minutes of silence at the end). Checked after each COPY instead — the same
                # checks, and the progress lines tell the truth.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                self._generate_in_thread()
            else:
                self.generate()
        self.progress.tick("写入完成", force=True)
        if postgres:
            # What autovacuum would do after a bulk load, done now: fresh statistics for good
            # plans, and the visibility map that lets counts read indexes only (a city's
            # 31,600 member files: 45 → 5 ms). VACUUM cannot run inside a transaction (a
            # caller's, such as a test's): there, the statistics only.
            command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
            started = time.perf_counter()
            with connection.cursor() as cursor:
                for table in sorted(self.progress.counts):
                    cursor.execute(f"{command} {connection.ops.quote_name(table)}")
            self.progress.tick(f"{command}（{time.perf_counter() - started:.1f} 秒）", force=True)
        return self.progress


def _set_paths(marker: str) -> None:
    """One UPDATE: every unit whose path starts with `marker` gets its parent's path plus its
    own id (a root: "/<id>/"). Runs where the units were written, in the same transaction."""
    parent_path = Unit.objects.filter(pk=OuterRef("parent_id")).values("path")[:1]
    Unit.objects.filter(path__startswith=marker).update(
        path=Concat(
            Coalesce(Subquery(parent_path), Value("/")),
            Cast("pk", CharField()),
            Value("/"),
            output_field=CharField(),
        )
    )


def _seconds_to_hours(seconds: float) -> Decimal:
    from hongfeng.activities.services.completion import _hours

    return _hours(seconds)


def clipped_hours(starts: datetime, ends: datetime, at_in: datetime, at_out: datetime) -> Decimal:
    """The check-in span clipped to the activity window, in hours to two places (as
    hongfeng.activities.services.completion.computed_hours counts a pair)."""
    lo, hi = max(at_in, starts), min(at_out, ends)
    return _seconds_to_hours(max((hi - lo).total_seconds(), 0.0))
