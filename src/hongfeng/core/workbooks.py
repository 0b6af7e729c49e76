"""Every Excel workbook the platform writes goes through this module (issue 15, item 2.1): no
other module calls openpyxl's writing API (tests/core/test_workbooks.py greps src/ for it).

Why one helper: openpyxl turns any text that starts with "=" into a formula cell, so a unit or a
member named `=HYPERLINK("http://e.x","点")` became a live formula in the roster export and in the
public 公示 workbook. Here every text is written as a string cell (data type "s", never "f"), and
a text that a spreadsheet could take for a formula — one starting with `=`, `+`, `-`, `@`, a tab
or a carriage return (OWASP "CSV injection"), plus a line feed and the full-width forms
`＝＋－＠` that Chinese input methods type — gets a leading apostrophe `'`.

Why the apostrophe in the text rather than the `quotePrefix` style flag: the flag lives only in
the .xlsx styles and is honoured only by Excel-family programs; the moment someone saves the
sheet as CSV, pastes it elsewhere or loads it with another tool, the flag is gone and the raw
`=...` is live again. The apostrophe travels with the value. Its cost — an apostrophe shown in
front of such values — falls only on values that no legitimate name has (unit and person names
starting with these characters are refused at entry: `looks_like_formula`). Numbers and dates
stay real numbers and dates; put numbers in NUMBER/INTEGER columns, never as text.

The API (small on purpose):

    from hongfeng.core.workbooks import Column, Kind, WorkbookWriter, XLSX

    book = WorkbookWriter()
    sheet = book.add_sheet(
        "队员名册",                                  # sheet name
        [Column("姓名", width=10),                  # Kind.TEXT by default
         Column("入队日期", Kind.DATE),
         Column("时长（小时）", Kind.NUMBER, number_format="0.00"),
         Column("状态", choices=["在队", "暂停"])],  # a drop-down list over prepared rows
        title="红枫义警总队 队员名册",               # optional bold row above the header
        notes=["导出人：… · 导出时间：…"],            # optional plain rows under the title
    )
    sheet.append(["张三", date(2024, 3, 1), Decimal("2.5"), "在队"])
    sheet.append(["合计", None, 12.5, None], bold=True)
    sheet.prepare_rows(2000)       # templates: formats and drop-downs on rows left to fill in
    book.add_text_sheet("填写说明", ["1. …", "2. …"], title="填写说明")
    content: bytes = book.to_bytes()

Column kinds: TEXT writes every value as text (an ID number or a mobile stays text, formatted
"@" so Excel keeps it text when edited); INTEGER and NUMBER write numbers (Decimal included);
DATE and DATETIME write dates (aware datetimes in local time, Asia/Shanghai); GENERAL keeps
each value as typed (for files that imitate what offices type). In any kind, a `str` value is
text and a `bool` is 是/否. The header row is frozen; the title and notes are merged across the
columns.
"""

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Leading characters a spreadsheet may read as the start of a formula (OWASP: = + - @ tab CR;
# a line feed and the full-width forms are added because they cost nothing to neutralise).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Characters XML 1.0 cannot carry (openpyxl refuses them): dropped, not escaped.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
MAX_CELL_CHARS = 32_767  # Excel's limit; longer text makes Excel call the file damaged
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_OPTIONS_SHEET = "选项"
_RED = "C0392B"
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")
_TITLE_FONT = Font(bold=True, size=14, color=_RED)
_BOLD = Font(bold=True)
_WRAP = Alignment(wrap_text=True, vertical="top")


class Kind(StrEnum):
    """How a column's values are written (see the module docstring)."""

    TEXT = "text"
    GENERAL = "general"
    INTEGER = "integer"
    NUMBER = "number"
    DATE = "date"
    DATETIME = "datetime"


_FORMATS = {
    Kind.TEXT: "@",
    Kind.GENERAL: "General",
    Kind.INTEGER: "0",
    Kind.NUMBER: "General",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm",
}


@dataclass(frozen=True)
class Column:
    """One column: its header, kind, width in characters, and optionally a number format, text
    wrapping, or a fixed list of choices offered as a drop-down on prepared rows."""

    header: str
    kind: Kind = Kind.TEXT
    width: int = 12
    number_format: str | None = None
    wrap: bool = False
    choices: Sequence[str] = field(default=())

    @property
    def format(self) -> str:
        return self.number_format or _FORMATS[self.kind]


def looks_like_formula(text: str | None) -> bool:
    """Whether a spreadsheet could take this text for a formula (its first character). Name
    validation uses it so that names and exports agree on what is dangerous."""
    return bool(text) and text.startswith(FORMULA_PREFIXES)


def safe_text(value) -> str:
    """Any value as text that is safe in a cell: illegal control characters dropped, a
    formula-like start neutralised with an apostrophe, cut to Excel's cell limit."""
    text = _ILLEGAL.sub("", str(value))
    if looks_like_formula(text):
        text = "'" + text
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text


def _cell_value(value, kind: Kind):
    """The value as openpyxl should store it: a number, a date, or text — never a formula."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str) or kind == Kind.TEXT:
        return safe_text(value)
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.replace(tzinfo=None)
        return value.date() if kind == Kind.DATE else value
    if isinstance(value, date):
        return value
    return safe_text(value)


def _sheet_name(name: str) -> str:
    return (_SHEET_NAME_BAD.sub("", name).strip("'") or "Sheet")[:31]


class SheetWriter:
    """One worksheet: title and notes rows, a frozen header, then data rows."""

    def __init__(self, book: "WorkbookWriter", sheet, columns: Sequence[Column]):
        self._book = book
        self._sheet = sheet
        self.columns = list(columns)
        self._row = 0  # the last row written
        self.first_data_row = 1

    def _line(self, text: str, font: Font | None = None) -> None:
        """A merged row across all columns (title or note)."""
        self._row += 1
        cell = self._sheet.cell(row=self._row, column=1)
        _set(cell, safe_text(text))
        if font is not None:
            cell.font = font
        if len(self.columns) > 1:
            self._sheet.merge_cells(
                start_row=self._row, start_column=1, end_row=self._row, end_column=len(self.columns)
            )

    def _header(self) -> None:
        self._row += 1
        for position, column in enumerate(self.columns, start=1):
            cell = self._sheet.cell(row=self._row, column=position)
            _set(cell, safe_text(column.header))
            cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
            self._sheet.column_dimensions[get_column_letter(position)].width = column.width
        self._sheet.freeze_panes = self._sheet.cell(row=self._row + 1, column=1).coordinate
        self.first_data_row = self._row + 1

    def append(self, values: Sequence, *, bold: bool = False) -> None:
        """One data row, one value per column (missing trailing values are left empty)."""
        if len(values) > len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        self._row += 1
        for position, (column, value) in enumerate(
            zip(self.columns, values, strict=False), start=1
        ):
            cell = self._sheet.cell(row=self._row, column=position)
            _set(cell, _cell_value(value, column.kind))
            cell.number_format = column.format
            if column.wrap:
                cell.alignment = _WRAP
            if bold:
                cell.font = _BOLD

    def extend(self, rows: Iterable[Sequence]) -> None:
        for values in rows:
            self.append(values)

    def prepare_rows(self, count: int) -> None:
        """For templates: the next `count` empty rows get each column's number format (so an ID
        number typed into a TEXT column stays text) and its drop-down list of choices."""
        first, last = self._row + 1, self._row + count
        for position, column in enumerate(self.columns, start=1):
            letter = get_column_letter(position)
            if column.kind == Kind.TEXT or column.number_format:
                for row in range(first, last + 1):
                    self._sheet.cell(row=row, column=position).number_format = column.format
            if column.choices:
                validation = DataValidation(
                    type="list", formula1=self._book.options_range(column.choices), allow_blank=True
                )
                validation.add(f"{letter}{first}:{letter}{last}")
                self._sheet.add_data_validation(validation)


def _set(cell, value) -> None:
    """Store a value; text is always a string cell (data type "s"), never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


class WorkbookWriter:
    """A workbook being written; `to_bytes()` gives the .xlsx file."""

    def __init__(self):
        self._workbook = Workbook()
        self._workbook.properties.creator = "红枫义警数字化平台"
        self._fresh = True  # the workbook's initial empty sheet is still unused
        self._options = None

    def _new_sheet(self, name: str):
        if self._fresh:
            self._fresh = False
            sheet = self._workbook.active
            sheet.title = _sheet_name(name)
            return sheet
        return self._workbook.create_sheet(_sheet_name(name))

    def add_sheet(
        self,
        name: str,
        columns: Sequence[Column],
        *,
        title: str | None = None,
        notes: Sequence[str] = (),
    ) -> SheetWriter:
        """A table sheet: optional title and note rows, then the header row (frozen)."""
        writer = SheetWriter(self, self._new_sheet(name), columns)
        if title:
            writer._line(title, _TITLE_FONT)
        for note in notes:
            writer._line(note)
        writer._header()
        return writer

    def add_text_sheet(
        self, name: str, lines: Sequence[str], *, title: str | None = None, width: int = 100
    ) -> None:
        """A sheet of text lines in one wide column (instructions, explanations)."""
        sheet = self._new_sheet(name)
        texts = ([title] if title else []) + list(lines)
        for row, text in enumerate(texts, start=1):
            cell = sheet.cell(row=row, column=1)
            _set(cell, safe_text(text))
            if title and row == 1:
                cell.font = _BOLD
        sheet.column_dimensions["A"].width = width

    def options_range(self, choices: Sequence[str]) -> str:
        """A drop-down list's source: the choices written as text on a hidden sheet. Kept off
        the formula itself, where a comma or a quote in a name would split or break the list
        and more than 255 characters would make Excel refuse the file."""
        if self._options is None:
            self._options = self._workbook.create_sheet(_OPTIONS_SHEET)
            self._options.sheet_state = "hidden"
            self._options_columns = 0
        self._options_columns += 1
        column = self._options_columns
        for row, choice in enumerate(choices, start=1):
            _set(self._options.cell(row=row, column=column), safe_text(choice))
        letter = get_column_letter(column)
        return f"{quote_sheetname(_OPTIONS_SHEET)}!${letter}$1:${letter}${max(len(choices), 1)}"

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self._workbook.save(buffer)
        return buffer.getvalue()
