"""Reading a team roster from Excel (4.5 队伍一键入驻) as offices really make them.

Rosters arrive from Excel and WPS with: a merged title row above the header; ID numbers typed
as numbers (Excel keeps 15 significant digits, so the last ones are lost and the cell shows
3.30681E+17); full-width digits and spaces; a lowercase x; mobiles stored as numbers; dates as
serial numbers or in several Chinese spellings. What can be recovered safely is recovered; what
cannot is explained, row by row — a lost ID digit is never guessed.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from openpyxl.utils.exceptions import InvalidFileException

from hongfeng.accounts.models import normalize_mobile
from hongfeng.core.errors import DomainError
from hongfeng.core.idnumber import normalize_id_number, parse_id_number
from hongfeng.members.models import Category, PoliticalStatus, Skill
from hongfeng.members.services.files import check_age
from hongfeng.orgs.models import Unit, UnitKind

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
HEADER_SEARCH_ROWS = 10

# Canonical column → the headers offices use for it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "队员姓名"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "身份证"),
    "mobile": ("手机号", "手机号码", "手机", "联系电话", "电话"),
    "squad": ("分队", "所在分队"),
    "group": ("小组", "所在小组"),
    "category": ("人员类别", "类别", "身份类别"),
    "political_status": ("政治面貌",),
    "skills": ("专业技能", "技能", "特长"),
    "joined_on": ("入队日期", "加入日期", "入队时间"),
    "address": ("住址", "家庭住址", "地址", "现住址"),
    "emergency_contact": ("紧急联系人",),
    "emergency_mobile": ("紧急联系电话", "紧急联系人电话"),
}
REQUIRED = ("name", "id_number", "mobile")
TEMPLATE_HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "分队",
    "小组",
    "人员类别",
    "政治面貌",
    "专业技能",
    "入队日期",
    "住址",
    "紧急联系人",
    "紧急联系电话",
]
_SPLIT = re.compile(r"[、,，;；/\s]+")
_FULL_WIDTH = str.maketrans({chr(0xFF01 + i): chr(0x21 + i) for i in range(94)} | {"\u3000": " "})


@dataclass
class RosterRow:
    """One data row: what was read, what it became, and what is wrong with it."""

    number: int  # the row number in the sheet, as the office sees it
    name: str = ""
    id_number: str = ""
    mobile: str = ""
    unit: Unit | None = None
    unit_label: str = ""
    category: str = Category.OTHER
    political_status: str = PoliticalStatus.MASSES
    skills: list[str] = field(default_factory=list)
    joined_on: date | None = None
    address: str = ""
    emergency_contact: str = ""
    emergency_mobile: str = ""
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was repaired, for the report

    @property
    def ok(self) -> bool:
        return not self.errors


def _clean_header(value) -> str:
    return re.sub(r"[\s*＊:：（(].*$", "", str(value or "").translate(_FULL_WIDTH).strip())


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).translate(_FULL_WIDTH).split())


def open_sheet(content: bytes):
    """The first worksheet, or a DomainError a person can act on."""
    if len(content) > MAX_BYTES:
        raise DomainError(
            "文件过大（上限 10 MB）。请拆分后分批导入。", code="file_too_large", field="file"
        )
    if not content.startswith(b"PK"):
        raise DomainError(
            "请上传 Excel 的 .xlsx 文件（旧版 .xls 请先另存为 .xlsx）。",
            code="not_xlsx",
            field="file",
        )
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        raise DomainError(
            "无法读取该文件：它不是有效的 .xlsx 文件，或已损坏。", code="corrupt_file", field="file"
        ) from None
    return workbook.worksheets[0]


def find_columns(rows: list[tuple]) -> tuple[int, dict[str, int]]:
    """The header row (within the first rows: titles may sit above it) and each column."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        headers = [_clean_header(cell) for cell in row]
        columns = {}
        for key, names in COLUMNS.items():
            for position, header in enumerate(headers):
                if header in names and key not in columns:
                    columns[key] = position
        if all(key in columns for key in REQUIRED):
            return index, columns
    raise DomainError(
        "没有找到表头：名册须有「姓名」「身份证号」「手机号」三列（可下载模板对照）。",
        code="no_header",
        field="file",
    )


def read_id_number(value, row: RosterRow) -> str:
    if value is None or value == "":
        row.errors.append("身份证号为空")
        return ""
    if isinstance(value, int | float) or re.search(r"\d[.]\d+E\+?\d+", str(value), re.I):
        # Excel kept only 15 significant digits: the tail is gone and must not be invented.
        row.errors.append(
            "身份证号被保存成了数字（显示为科学计数法），末尾几位已丢失，无法恢复；"
            "请把该列设为「文本」格式后重新填写"
        )
        return ""
    text = normalize_id_number(value)
    if text != str(value).strip():
        row.notes.append("身份证号中的全角字符、空格或小写 x 已规范化")
    try:
        info = parse_id_number(text)
        check_age(info.birth_date)
    except DomainError as exc:
        row.errors.append(exc.message.rstrip("。"))
        return ""
    return info.number


def read_mobile(value, row: RosterRow, *, label: str = "手机号", required: bool = True) -> str:
    if value is None or value == "":
        if required:
            row.errors.append(f"{label}为空")
        return ""
    if isinstance(value, float):
        if not value.is_integer():
            row.errors.append(f"{label}格式不正确")
            return ""
        value = int(value)
    mobile = normalize_mobile(_text(value))
    if not re.fullmatch(r"1[3-9]\d{9}", mobile):
        row.errors.append(f"{label}应为11位手机号码")
        return ""
    return mobile


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


def read_date(value, row: RosterRow, label: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        if 1 <= value < 2958466:  # an Excel serial day number (1900 date system)
            row.notes.append(f"{label}由 Excel 日期序号转换")
            return from_excel(value).date()
        row.errors.append(f"{label}不是有效日期")
        return None
    text = _text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    row.errors.append(f"{label}「{text[:20]}」无法识别，请写成 2024-03-01 这样的格式")
    return None


def _choice(value, choices, default, row: RosterRow, label: str) -> str:
    text = _text(value)
    if not text:
        return default
    by_label = {lbl: code for code, lbl in choices} | {code: code for code, _ in choices}
    if text in by_label:
        return by_label[text]
    allowed = "、".join(name for _, name in choices)
    row.errors.append(f"{label}「{text[:20]}」不在可选范围内：{allowed}")
    return default


class UnitResolver:
    """Squad and group names → units of the team (one query for the whole file)."""

    def __init__(self, team: Unit):
        self.team = team
        units = list(
            Unit.objects.active()
            .subtree_of(team, include_self=False)
            .filter(kind__in=[UnitKind.SQUAD, UnitKind.GROUP])
        )
        self.squads = {u.name: u for u in units if u.kind == UnitKind.SQUAD}
        self.groups: dict[tuple[int, str], Unit] = {
            (u.parent_id, u.name): u for u in units if u.kind == UnitKind.GROUP
        }
        self.groups_by_name: dict[str, list[Unit]] = {}
        for u in units:
            if u.kind == UnitKind.GROUP:
                self.groups_by_name.setdefault(u.name, []).append(u)

    def resolve(self, squad_name: str, group_name: str, row: RosterRow) -> Unit:
        squad = None
        if squad_name:
            squad = self.squads.get(squad_name)
            if squad is None:
                row.errors.append(f"分队「{squad_name}」在{self.team.name}中不存在")
                return self.team
        if group_name:
            if squad is not None:
                group = self.groups.get((squad.pk, group_name))
                if group is None:
                    row.errors.append(f"小组「{group_name}」不在{squad_name}之下")
                    return squad
                return group
            matches = self.groups_by_name.get(group_name, [])
            if len(matches) == 1:
                return matches[0]
            row.errors.append(
                f"小组「{group_name}」" + ("不存在" if not matches else "有重名，请同时填写分队")
            )
            return self.team
        return squad or self.team


def _blank(values) -> bool:
    return all(v is None or _text(v) == "" for v in values)


def _sheet_rows(sheet) -> list[tuple]:
    """The sheet's rows. Read-only openpyxl parses the XML only now, so a damaged sheet fails
    here — as a clear error, not a crash. Rows formatted but left empty do not count."""
    rows, filled = [], 0
    try:
        for values in sheet.iter_rows(values_only=True):
            if _blank(values):
                if rows:
                    rows.append(values)
                continue
            rows.append(values)
            filled += 1
            if filled > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise DomainError(
                    f"一次最多导入 {MAX_ROWS} 行，请拆分后分批导入。",
                    code="too_many_rows",
                    field="file",
                )
    except DomainError:
        raise
    except Exception:  # any parser failure means the same thing to the user
        raise DomainError(
            "无法读取该文件：它不是有效的 .xlsx 文件，或已损坏。", code="corrupt_file", field="file"
        ) from None
    return rows


def _limited(value, limit: int, label: str, row: RosterRow) -> str:
    text = _text(value)
    if len(text) > limit:
        row.errors.append(f"{label}超过{limit}字")
    return text[:limit]


def read_rows(content: bytes, team: Unit) -> list[RosterRow]:
    """Every data row of the roster, each with its value or its errors (nothing is written)."""
    rows = _sheet_rows(open_sheet(content))
    header, columns = find_columns(rows)
    units = UnitResolver(team)
    skills = dict(Skill.objects.values_list("name", "code"))
    result = []
    for offset, values in enumerate(rows[header + 1 :], start=header + 2):

        def cell(key, values=values):
            position = columns.get(key)
            return values[position] if position is not None and position < len(values) else None

        if _blank(values):
            continue
        row = RosterRow(number=offset)
        row.name = "".join(_text(cell("name")).split())
        if not row.name:
            row.errors.append("姓名为空")
        elif len(row.name) > 30 or any(ch.isdigit() for ch in row.name):
            row.errors.append("姓名应为真实姓名")
        row.id_number = read_id_number(cell("id_number"), row)
        row.mobile = read_mobile(cell("mobile"), row)
        row.unit = units.resolve(_text(cell("squad")), _text(cell("group")), row)
        row.unit_label = row.unit.name
        row.category = _choice(cell("category"), Category.choices, Category.OTHER, row, "人员类别")
        row.political_status = _choice(
            cell("political_status"),
            PoliticalStatus.choices,
            PoliticalStatus.MASSES,
            row,
            "政治面貌",
        )
        for name in _SPLIT.split(_text(cell("skills"))):
            if not name:
                continue
            if name in skills:
                row.skills.append(skills[name])
            else:
                row.errors.append(f"技能「{name[:10]}」不在技能目录中")
        row.joined_on = read_date(cell("joined_on"), row, "入队日期")
        row.address = _limited(cell("address"), 200, "住址", row)
        row.emergency_contact = _limited(cell("emergency_contact"), 50, "紧急联系人", row)
        row.emergency_mobile = read_mobile(
            cell("emergency_mobile"), row, label="紧急联系电话", required=False
        )
        result.append(row)
    if not result:
        raise DomainError("名册中没有数据行。", code="empty_roster", field="file")
    return result
