"""Reading a team roster from Excel (4.5 队伍一键入驻) as offices really make them.

Rosters arrive from Excel and WPS with: a merged title row above the header; ID numbers typed
as numbers (Excel keeps 15 significant digits, so the last ones are lost and the cell shows
3.30681E+17); full-width digits and spaces; a lowercase x; mobiles stored as numbers; dates as
serial numbers or in several Chinese spellings. What can be recovered safely is recovered; what
cannot is explained, row by row — a lost ID digit is never guessed.
"""

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from openpyxl.utils.datetime import from_excel

from hongfeng.core.errors import DomainError
from hongfeng.core.idnumber import parse_id_number
from hongfeng.core.sheet_reader import SheetRows, read_first_sheet
from hongfeng.members.models import Category, PoliticalStatus, Skill
from hongfeng.members.services.identity import check_age, check_joined_on, clean_person_name
from hongfeng.orgs.models import Unit, UnitKind

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 10_000
HEADER_SEARCH_ROWS = 10
# Rows read in all, blank ones included (2.6: one data row and a million formatted blank rows
# kept a worker busy 37 s); a run of this many blank rows ends the roster.
SCAN_ROWS = 2 * MAX_ROWS + HEADER_SEARCH_ROWS
BLANK_RUN = 1000
READ_CHARS = 1000  # no field is longer; a 3,000,000-character cell is cut on reading

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
LABELS = {key: names[0] for key, names in COLUMNS.items()}
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
_WIDE_ID = {0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF38: ord("X"), 0xFF58: ord("x")}
_SEPARATORS = re.compile(r"[\s\-\u3000]")


@dataclass
class RosterRow:
    """One data row: what was read, what it became, and what is wrong with it."""

    number: int  # the row number in the sheet, as the office sees it
    name: str = ""
    id_number: str = ""
    birth_date: date | None = None
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
    notes: list[str] = field(default_factory=list)  # every repair made, for the report (3.3)

    @property
    def ok(self) -> bool:
        return not self.errors

    def note(self, label: str, what: str) -> None:
        self.notes.append(f"{label}：{what}")


@dataclass
class RosterFile:
    """The rows of a roster, and what the office should know about the file as a whole."""

    rows: list[RosterRow]
    notice: str = ""


def _plain(value) -> str:
    """A cell as text, unrepaired (cut at READ_CHARS)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:READ_CHARS]


def _clip(text: str, limit: int = 20) -> str:
    """A value quoted in a message: short."""
    return text if len(text) <= limit else text[:limit] + "…"


def _clean_header(value) -> str:
    return re.sub(r"[\s*＊:：（(].*$", "", _plain(value).translate(_FULL_WIDTH).strip())


def _text(value) -> str:
    return " ".join(_plain(value).translate(_FULL_WIDTH).split())


def _tidy(value, row: RosterRow, label: str, *, joiner: str = " ") -> str:
    """Free text: surrounding and repeated spaces go (and are noted); nothing else changes."""
    raw = _plain(value)
    text = joiner.join(raw.split())
    if text != raw:
        row.note(label, "去除了多余的空格")
    return text


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


def read_name(value, row: RosterRow) -> str:
    raw = _plain(value)
    narrow = raw.translate(_FULL_WIDTH)
    if any(0xFF01 <= ord(ch) <= 0xFF5E for ch in raw):
        row.note("姓名", "全角字符改为半角")
    if "".join(narrow.split()) != narrow:
        row.note("姓名", "去除了空格")
    if not narrow.strip():
        row.errors.append("姓名为空")
        return ""
    try:
        return clean_person_name(narrow)
    except DomainError as exc:
        row.errors.append(exc.message.rstrip("。"))
        return _clip("".join(narrow.split()), 30)


def read_id_number(value, row: RosterRow) -> str:
    if value is None or value == "":
        row.errors.append("身份证号为空")
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)  # exact below 15 digits
    if isinstance(value, float) or re.search(r"\d[.]\d+E\+?\d+", str(value), re.I):
        # Excel kept only 15 significant digits: the tail is gone and must not be invented.
        row.errors.append(
            "身份证号被保存成了数字（显示为科学计数法），末尾几位已丢失，无法恢复；"
            "请把该列设为「文本」格式后重新填写"
        )
        return ""
    if isinstance(value, int):
        row.note("身份证号", "以数字保存，已按文本读取")
    raw = _plain(value)
    text = raw.translate(_WIDE_ID)
    if text != raw:
        row.note("身份证号", "全角字符改为半角")
    if _SEPARATORS.search(text):
        row.note("身份证号", "去除了空格或横线")
        text = _SEPARATORS.sub("", text)
    if text.endswith("x"):
        row.note("身份证号", "末位小写 x 改为大写 X")
    try:
        info = parse_id_number(text.upper())
        check_age(info.birth_date)
    except DomainError as exc:
        row.errors.append(exc.message.rstrip("。"))
        return ""
    row.birth_date = info.birth_date
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
    if isinstance(value, int):
        row.note(label, "以数字保存，已按文本读取")
    raw = _plain(value)
    text = raw.translate({0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF0B: ord("+")})
    if text != raw:
        row.note(label, "全角数字改为半角")
    if _SEPARATORS.search(text):
        row.note(label, "去除了空格或横线")
        text = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if text.startswith(prefix) and len(text) > 11:
            row.note(label, f"去除了 {prefix} 前缀")
            text = text[len(prefix) :]
    if not re.fullmatch(r"1[3-9]\d{9}", text):
        row.errors.append(f"{label}应为11位手机号码")
        return ""
    return text


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
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # an Excel serial day number (1900 date system)
            result = from_excel(value).date()
            row.note(label, f"Excel 日期序号 {_plain(value)} 转为 {result:%Y-%m-%d}")
            return result
        row.errors.append(f"{label}不是有效日期")
        return None
    raw = _plain(value)
    text = "".join(raw.translate(_FULL_WIDTH).split())
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                result = date(*(int(part) for part in match.groups()))
            except ValueError:
                break
            if raw != f"{result:%Y-%m-%d}":
                row.note(label, f"文字「{_clip(raw)}」识别为 {result:%Y-%m-%d}")
            return result
    row.errors.append(f"{label}「{_clip(raw)}」无法识别，请写成 2024-03-01 这样的格式")
    return None


def _choice(value, choices, default, row: RosterRow, label: str) -> str:
    text = _tidy(value, row, label, joiner="")
    if not text:
        return default
    by_label = {lbl: code for code, lbl in choices} | {code: code for code, _ in choices}
    if text in by_label:
        return by_label[text]
    allowed = "、".join(name for _, name in choices)
    row.errors.append(f"{label}「{_clip(text)}」不在可选范围内：{allowed}")
    return default


def _key(name: str) -> str:
    """A unit name as compared: full-width forms and spaces do not matter."""
    return "".join(name.translate(_FULL_WIDTH).split())


class UnitResolver:
    """Squad and group names → units of the team (one query for the whole file). Names match
    whatever their full-width forms and spaces; a name matched that way is noted."""

    def __init__(self, team: Unit):
        self.team = team
        units = list(
            Unit.objects.active()
            .subtree_of(team, include_self=False)
            .filter(kind__in=[UnitKind.SQUAD, UnitKind.GROUP])
        )
        self.squads = {_key(u.name): u for u in units if u.kind == UnitKind.SQUAD}
        self.groups: dict[tuple[int, str], Unit] = {
            (u.parent_id, _key(u.name)): u for u in units if u.kind == UnitKind.GROUP
        }
        self.groups_by_name: dict[str, list[Unit]] = {}
        for u in units:
            if u.kind == UnitKind.GROUP:
                self.groups_by_name.setdefault(_key(u.name), []).append(u)

    @staticmethod
    def _found(unit: Unit, typed: str, label: str, row: RosterRow) -> Unit:
        if unit.name != typed:
            row.note(label, f"「{_clip(typed)}」按「{unit.name}」识别")
        return unit

    def resolve(self, squad_name: str, group_name: str, row: RosterRow) -> Unit:
        squad = None
        if squad_name:
            squad = self.squads.get(_key(squad_name))
            if squad is None:
                row.errors.append(f"分队「{_clip(squad_name)}」在{self.team.name}中不存在")
                return self.team
            self._found(squad, squad_name, "分队", row)
        if group_name:
            if squad is not None:
                group = self.groups.get((squad.pk, _key(group_name)))
                if group is None:
                    row.errors.append(f"小组「{_clip(group_name)}」不在{squad.name}之下")
                    return squad
                return self._found(group, group_name, "小组", row)
            matches = self.groups_by_name.get(_key(group_name), [])
            if len(matches) == 1:
                return self._found(matches[0], group_name, "小组", row)
            row.errors.append(
                f"小组「{_clip(group_name)}」"
                + ("不存在" if not matches else "有重名，请同时填写分队")
            )
            return self.team
        return squad or self.team


def _blank(values) -> bool:
    return all(v is None or _text(v) == "" for v in values)


def _limited(value, limit: int, label: str, row: RosterRow) -> str:
    text = _tidy(value, row, label)
    if len(text) > limit:
        row.errors.append(f"{label}超过{limit}字")
    return text[:limit]


def _filled_rows(sheet: SheetRows) -> list[tuple[int, tuple]]:
    """(row number, values) of every non-blank row; too many data rows is refused."""
    filled = [(n, values) for n, values in enumerate(sheet.rows, start=1) if not _blank(values)]
    if len(filled) > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise DomainError(
            f"一次最多导入 {MAX_ROWS} 行，请拆分后分批导入。", code="too_many_rows", field="file"
        )
    return filled


class _Cells:
    """One row's cells by column key; a formula's cached result is noted, a formula without
    one is an error (the file was never opened in a spreadsheet program)."""

    def __init__(self, number, values, columns, formulas, row: RosterRow):
        self.number, self.values, self.columns = number, values, columns
        self.formulas, self.row = formulas, row

    def __call__(self, key: str):
        position = self.columns.get(key)
        if position is None or position >= len(self.values):
            return None
        value = self.values[position]
        if (self.number, position + 1) in self.formulas:
            if value is None or value == "":
                self.row.errors.append(
                    f"{LABELS[key]}是公式但没有计算结果，请在 Excel 中打开并保存后再上传"
                )
            else:
                self.row.note(LABELS[key], "单元格是公式，已取其计算结果")
        return value


def _skills(value, skills: dict[str, str], row: RosterRow) -> list[str]:
    codes = []
    for name in _SPLIT.split(_plain(value)):
        if not name:
            continue
        code = skills.get(name) or skills.get(name.translate(_FULL_WIDTH))
        if code:
            codes.append(code)
        else:
            row.errors.append(f"技能「{_clip(name, 10)}」不在技能目录中")
    return codes


def read_row(cell: _Cells, row: RosterRow, units: UnitResolver, skills: dict) -> RosterRow:
    """One data row read into its fields, with every repair noted and every error said."""
    row.name = read_name(cell("name"), row)
    row.id_number = read_id_number(cell("id_number"), row)
    row.mobile = read_mobile(cell("mobile"), row)
    squad = _tidy(cell("squad"), row, "分队")
    group = _tidy(cell("group"), row, "小组")
    row.unit = units.resolve(squad, group, row)
    row.unit_label = row.unit.name
    row.category = _choice(cell("category"), Category.choices, Category.OTHER, row, "人员类别")
    row.political_status = _choice(
        cell("political_status"), PoliticalStatus.choices, PoliticalStatus.MASSES, row, "政治面貌"
    )
    row.skills = _skills(cell("skills"), skills, row)
    row.joined_on = read_date(cell("joined_on"), row, "入队日期")
    if row.joined_on is not None:
        try:
            check_joined_on(row.joined_on, row.birth_date)
        except DomainError as exc:
            row.errors.append(exc.message.rstrip("。"))
    row.address = _limited(cell("address"), 200, "住址", row)
    row.emergency_contact = _limited(cell("emergency_contact"), 50, "紧急联系人", row)
    row.emergency_mobile = read_mobile(
        cell("emergency_mobile"), row, label="紧急联系电话", required=False
    )
    return row


def read_roster(content: bytes, team: Unit) -> RosterFile:
    """Every data row of the roster, each with its value or its errors (nothing is written),
    and a notice when reading stopped at a long run of blank rows."""
    sheet = read_first_sheet(content, max_rows=SCAN_ROWS, blank_run=BLANK_RUN)
    filled = _filled_rows(sheet)
    header, columns = find_columns([values for _, values in filled])
    units = UnitResolver(team)
    skills = dict(Skill.objects.values_list("name", "code"))
    rows = []
    for number, values in filled[header + 1 :]:
        row = RosterRow(number=number)
        rows.append(
            read_row(_Cells(number, values, columns, sheet.formulas, row), row, units, skills)
        )
    if not rows:
        raise DomainError("名册中没有数据行。", code="empty_roster", field="file")
    notice = ""
    if sheet.stopped_after_blank_run:
        notice = (
            f"第 {len(sheet.rows) + 1} 行起连续 {BLANK_RUN} 行为空，已视为名册结束；"
            "其后如还有队员，请删除空行后重新上传。"
        )
    return RosterFile(rows=rows, notice=notice)


def read_rows(content: bytes, team: Unit) -> list[RosterRow]:
    """The data rows of a roster (see `read_roster`)."""
    return read_roster(content, team).rows
