"""The seed's accounts: the seed's own administrator (the step "accounts.actor", first), the
officials over the tower (the step "accounts.officials", after the tower), and
`write_users`/`role_table` for the steps that seed people (members.seed)."""

import secrets
from datetime import timedelta

from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.core.seed import mobile_for, person_name, seeded_pinyin

USER_COLUMNS = ("mobile", "name", "name_pinyin", "password", "security_stamp", "date_joined")
ROLE_COLUMNS = (
    "user_id", "role", "unit_id", "granted_by_id", "granted_at", "revoked_by_id", "revoked_at",
    "revoke_reason",
)  # fmt: skip


def role_table(seeding):
    return seeding.table(RoleAssignment, ROLE_COLUMNS)


def write_users(seeding, people: list[tuple]) -> list[int]:
    """Accounts for (running number, name, joined at); returns their ids."""
    rows = [
        (
            mobile_for(seeding.scale, seeding.seed, n),
            name,
            seeded_pinyin(name)[0],
            seeding.password,
            secrets.token_hex(16),  # as new_security_stamp(): never predictable
            joined_at,
        )
        for n, name, joined_at in people
    ]
    return seeding.writer.insert(seeding.table(User, USER_COLUMNS), rows, ids=True)


def seed_actor(seeding) -> None:
    """The seed's own administrator (running number 0), who granted the officials their roles
    and the captains theirs."""
    (seeding.actor_id,) = write_users(
        seeding, [(0, "压测管理员", seeding.now - timedelta(days=900))]
    )


def _officials(seeding, units: list, role: str) -> None:
    """One account with `role` over each unit (association admins, police officers)."""
    people = []
    for _unit in units:
        people.append(
            (seeding.next_person(), person_name(seeding.rng), seeding.now - timedelta(days=800))
        )
    ids = write_users(seeding, people)
    granted = seeding.now - timedelta(days=800)
    seeding.writer.insert(
        role_table(seeding),
        [
            (uid, role, unit.id, seeding.actor_id, granted, None, None, "")
            for uid, unit in zip(ids, units, strict=True)
        ],
    )


def seed_officials(seeding) -> None:
    """Association admins of every city and county, the county bureaus' and the stations'
    officers, and the seed's administrator over the root."""
    _officials(seeding, seeding.associations, Role.ASSOCIATION_ADMIN)
    _officials(seeding, seeding.county_bureaus, Role.BUREAU_OFFICER)
    _officials(seeding, seeding.stations, Role.STATION_OFFICER)
    seeding.writer.insert(
        role_table(seeding),
        [(seeding.actor_id, Role.ASSOCIATION_ADMIN, seeding.root.id, None,
          seeding.now - timedelta(days=900), None, None, "")],
    )  # fmt: skip
