"""Seed data at scale (issue 6): a whole association tower with its police line, teams, leaders
and members (status history, skills, insurance, equipment), evaluated activities with sign-ups,
waitlists, check-ins, hours and points, and one upcoming activity per team.

Everything lives under its own root, "压测省义警协会（<scale>·种子<seed>）", and its own police
line, so a seed never mixes with the demo tower and a second run of the same scale and seed is
refused. The whole run is one transaction: an interrupted seed leaves nothing behind and can
simply be run again.

The rows come from the seed steps the apps register (registry.seed_steps, run by `Seeder`):
accounts.actor, orgs.tower and accounts.officials once; then for every team members.people,
activities.history, activities.upcoming and points.awards. Core holds the runner, the writer and
what every step draws from (names, numbers, places, the dice); each app's seed.py holds its
rows.

Speed and memory (province: ≈ 7.4 million rows; see bench/RESULTS.md "Province seed"):

- Rows are plain tuples written through `Writer`: binary `COPY … FROM STDIN` on PostgreSQL
  (psycopg 3), `bulk_create` elsewhere (SQLite, the embedded default). Every constraint, foreign
  key and index stays on; foreign keys are checked after each COPY rather than all at COMMIT.
  On PostgreSQL a second thread generates while the first writes, so Python and the server
  work at the same time; the server's checks and index updates are the bulk of the cost.
- Generation is streamed team by team: one team's people and activities (and a bounded queue
  of batches) are in memory at a time, so memory does not grow with the scale.
- Per-row work that would dominate is done once: all seeded accounts share one unusable
  password value (nobody logs in with a password as a seeded person — bench clients use API
  tokens; an operator sets a password with `hongfeng changepassword` if needed), pinyin is
  composed from a per-character table (checked against `pinyin_of` for every possible seeded
  name), and points awards are cached per (hours, difficulty, quality). ID numbers are still
  encrypted one by one with their blind index, so the member file and search work as usual.

Deterministic for a seed: one `Dice(seed)` (a `random.Random`) drives every choice, in an order
that does not depend on database ids. Only the encryption nonces, the security stamps and the
shared unusable password value differ between two runs. Mobile numbers and ID numbers encode
the scale and the seed, so seeds 0–99 of every scale can live side by side in one database.

Not generated (yet): audit events, level history (`LevelChange`), 1+1 partners, certificates,
trainings, notices — the services write those; the seed covers what the benchmarks read.
"""

from hongfeng.core.seed.plan import SeedUnit, place_names, split_evenly
from hongfeng.core.seed.scales import (
    GROUPS_PER_SQUAD,
    PLACE,
    SCALES,
    SQUADS_PER_TEAM,
    STATIONS_PER_COUNTY,
    AlreadySeeded,
    Dice,
    Scale,
    Weights,
    id_number_for,
    mobile_for,
    person_name,
    root_name,
    seeded_pinyin,
)
from hongfeng.core.seed.seeder import Seeder, is_seeded
from hongfeng.core.seed.writing import Table, Writer

__all__ = [
    "GROUPS_PER_SQUAD",
    "PLACE",
    "SCALES",
    "SQUADS_PER_TEAM",
    "STATIONS_PER_COUNTY",
    "AlreadySeeded",
    "Dice",
    "Scale",
    "SeedUnit",
    "Seeder",
    "Table",
    "Weights",
    "Writer",
    "id_number_for",
    "is_seeded",
    "mobile_for",
    "person_name",
    "place_names",
    "root_name",
    "seeded_pinyin",
    "split_evenly",
]
