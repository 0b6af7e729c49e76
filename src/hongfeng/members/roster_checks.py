"""The checks a roster gets before anything is imported (4.5 队伍一键入驻, issue 15 item 3):
rows of one file that clash, people and numbers already registered, and the report of every
bad row kept with the import — small whatever a cell held."""

from itertools import batched

from hongfeng.accounts.models import User
from hongfeng.core.masking import mask_name
from hongfeng.members.models import Member
from hongfeng.members.roster import RosterRow
from hongfeng.members.services.identity import id_number_index

# Rows read from the database per query.
_CHUNK = 500
# The report keeps at most this much of each row (2.6).
REPORT_NAME_CHARS = 32
REPORT_TEXT_CHARS = 200
REPORT_ITEMS = 20


def _same_in_file(rows: list[RosterRow], key: str) -> dict[str, list[RosterRow]]:
    groups: dict[str, list[RosterRow]] = {}
    for row in rows:
        value = getattr(row, key)
        if value:
            groups.setdefault(value, []).append(row)
    return {value: group for value, group in groups.items() if len(group) > 1}


def _others(row: RosterRow, group: list[RosterRow]) -> str:
    return "、".join(str(other.number) for other in group if other is not row)


def check_within_file(rows: list[RosterRow]) -> None:
    """Rows of one file that clash (3.1). One ID number under two names: which is right cannot
    be told, so every such row is flagged and none imported. The same person twice (same ID,
    same name): the first row stands, the repeats are flagged. One mobile for two people: it
    is a login, so both are flagged."""
    for group in _same_in_file(rows, "id_number").values():
        if len({row.name for row in group}) > 1:
            for row in group:
                row.errors.append(
                    f"与第 {_others(row, group)} 行：两行身份证号相同而姓名不同，请核对"
                )
        else:
            for row in group[1:]:
                row.errors.append(f"与第 {group[0].number} 行身份证号重复（同一人），此行不导入")
    for group in _same_in_file(rows, "mobile").values():
        people = {row.id_number or row.number for row in group}
        if len(people) > 1:
            for row in group:
                row.errors.append(
                    f"与第 {_others(row, group)} 行手机号相同，一个手机号只能登记一人，请核对"
                )


def check_against_file_and_database(rows: list[RosterRow]) -> None:
    """Clashes inside the file, and people or numbers already registered."""
    check_within_file(rows)
    indexes = {id_number_index(r.id_number): r for r in rows if r.id_number}
    for chunk in batched(indexes, _CHUNK):
        for index in Member.objects.filter(id_number_index__in=chunk).values_list(
            "id_number_index", flat=True
        ):
            indexes[index].errors.append("该身份证号已有队员档案")
    mobiles = {r.mobile: r for r in rows if r.mobile}
    for chunk in batched(mobiles, _CHUNK):
        for mobile, name, has_member in User.objects.filter(mobile__in=chunk).values_list(
            "mobile", "name", "member"
        ):
            row = mobiles[mobile]
            if has_member:
                row.errors.append("该手机号已属于另一名队员")
            elif name != row.name:
                row.errors.append("该手机号已注册账号，但姓名不一致")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def report_of(rows: list[RosterRow]) -> list[dict]:
    """The report kept with the import: names masked (it is shown and downloaded), every text
    cut short — whatever a cell held, the report stays small (2.6)."""
    return [
        {
            "row": r.number,
            "name": _cut(mask_name(r.name), REPORT_NAME_CHARS),
            "unit": _cut(r.unit_label, REPORT_TEXT_CHARS),
            "errors": [_cut(e, REPORT_TEXT_CHARS) for e in r.errors[:REPORT_ITEMS]],
            "notes": [_cut(n, REPORT_TEXT_CHARS) for n in r.notes[:REPORT_ITEMS]],
        }
        for r in rows
        if r.errors or r.notes
    ]
