"""Reading the first worksheet of an uploaded .xlsx safely (issue 15, items 2.6 and 3.4).

An .xlsx is a zip of XML parts, and everything in it is chosen by whoever made the file. What
went wrong before: an XML part with a DOCTYPE (XXE, "billion laughs") made the parser fail in
the worker, leaving the import "in progress" forever, or expand a 3,000,000-character cell; a
sheet with one data row and 1,000,000 blank rows kept a worker busy 37 s at 298 MB. So, before
openpyxl reads anything:

- the file must really be an xlsx (`hongfeng.core.filetypes.identify`), else the message says
  what it is (a CSV, an old .xls, a PDF…);
- the zip's declared uncompressed size is capped (`zipfile` never hands out more bytes than an
  entry declares: a lying entry fails its CRC check and the file is corrupt), and so is the
  number of entries;
- every XML part's prolog is run through expat with handlers that refuse a DOCTYPE or an
  entity declaration. Entities can only be declared in a DOCTYPE, and a DOCTYPE can only stand
  before the root element, so reading stops at the root's start tag: the check costs next to
  nothing, and expat itself decodes whatever encoding the part declares (no byte-pattern
  guessing to get around). A dependency (defusedxml) was not needed for this.

Then the rows are read lazily and bounded: at most `max_columns` columns, at most `max_rows`
rows in all (blank rows count), and reading stops after `blank_run` consecutive blank rows,
which is where a roster ends (the caller is told, to say so). Any exception while parsing is a
`DomainError` with code `corrupt_file` — never an error that leaves work half done.

Formula cells are reported too (`SheetRows.formulas`): the roster import says which values were
a formula's result (item 3.3). They are found with one more expat pass over the sheet part, up to
the last row read.
"""

import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers import expat

from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple

from hongfeng.core.errors import DomainError
from hongfeng.core.filetypes import FileKind, identify

MAX_UNCOMPRESSED = 40 * 1024 * 1024
MAX_PARTS = 2000
_CHUNK = 64 * 1024
_XML_NAMES = (".xml", ".rels", ".vml")
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CORRUPT = (
    "无法读取该文件：它不是有效的 .xlsx 文件，或已损坏。"
    "请在 Excel 中打开并另存为 .xlsx 后重新上传。"
)


def _corrupt(message: str = CORRUPT) -> DomainError:
    return DomainError(message, code="corrupt_file", field="file")


_ASK = "请上传 Excel 表格（.xlsx）。"
_SAVE_AS = "请在 Excel 或 WPS 中打开，另存为 .xlsx 后再上传。"
_NOT_XLSX = {
    FileKind.EMPTY: "文件是空的。",
    FileKind.CSV: "这是一个 CSV 文本文件，" + _SAVE_AS,
    FileKind.TEXT: "这是一个纯文本文件，不是 Excel 表格；" + _ASK,
    FileKind.HTML: "这是一个网页（HTML）文件（有些系统导出的「.xls」其实是网页），" + _SAVE_AS,
    FileKind.XML_2003: "这是 Excel 2003 XML 表格，" + _SAVE_AS,
    FileKind.OLE2: "这是旧版 Excel 文件（.xls），或设置了打开密码的 Excel 文件："
    "请取消打开密码，在 Excel 或 WPS 中另存为 .xlsx 后再上传。",
    FileKind.ODS: "这是 OpenDocument 表格（.ods），"
    "请在 WPS 或 LibreOffice 中另存为 .xlsx 后再上传。",
    FileKind.DOCX: "这是一个 Word 文档（.docx），不是 Excel 表格；" + _ASK,
    FileKind.ZIP: "这是一个压缩包（.zip），不是 Excel 表格；请解压后上传其中的 .xlsx 文件。",
    FileKind.PDF: "这是一个 PDF 文件，无法读取其中的表格；" + _ASK,
    FileKind.IMAGE: "这是一张图片，无法读取其中的表格；" + _ASK,
    FileKind.OTHER: "无法识别该文件的格式；" + _ASK,
}


def not_xlsx_message(kind: FileKind) -> str:
    """What to tell someone whose file is not an xlsx, by what it really is."""
    return _NOT_XLSX[kind]


def check_is_xlsx(content: bytes) -> None:
    """Refuse anything that is not an xlsx, saying what it is (cheap: the first bytes and, for a
    zip, its directory)."""
    kind = identify(content)
    if kind != FileKind.XLSX:
        raise DomainError(
            not_xlsx_message(kind),
            code="empty_file" if kind == FileKind.EMPTY else "not_xlsx",
            field="file",
        )


class _Stop(Exception):
    """The root element started: the prolog held no DOCTYPE."""


class _Refused(Exception):
    """A DOCTYPE or an entity declaration."""


def _refuse(*_args):
    raise _Refused


def _stop(*_args):
    raise _Stop


def _starts_like_xml(head: bytes) -> bool:
    """Whether a part may be XML whatever its name: after byte-order marks, whitespace and the
    zero bytes of UTF-16, it starts with "<" — or it is all padding so far."""
    rest = head.lstrip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")
    return not rest or rest.startswith(b"<")


def _check_prolog(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    xml_named = info.filename.lower().endswith(_XML_NAMES)
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.StartElementHandler = _stop
    with archive.open(info) as stream:
        head = stream.read(_CHUNK)
        if not head or not (xml_named or _starts_like_xml(head)):
            return  # empty, a picture or another binary part: nothing a DOCTYPE can hide in
        try:
            chunk = head
            while chunk:
                parser.Parse(chunk, False)
                chunk = stream.read(_CHUNK)
            parser.Parse(b"", True)
        except _Stop:
            return
        except _Refused:
            raise _corrupt(
                "该文件含有 Excel 不会写入的 XML 声明（DOCTYPE 或实体），可能是伪造或损坏的文件，"
                "已拒绝读取。请在 Excel 中打开并另存为 .xlsx 后重新上传。"
            ) from None
        except expat.ExpatError:
            # Not XML before any DOCTYPE, so no parser can expand one. An XML part that is not
            # XML is a damaged file; a binary part (a picture…) is none of our business.
            if xml_named:
                raise _corrupt() from None


def check_package(content: bytes) -> None:
    """The zip's size and parts, and no DOCTYPE or entity in any XML part."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_PARTS:
                raise _corrupt()
            if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
                raise DomainError(
                    f"文件解压后超过 {MAX_UNCOMPRESSED // 1024 // 1024} MB，"
                    "多半含有大量空行或图片。请删除空行和图片，或拆分后分批导入。",
                    code="file_too_large",
                    field="file",
                )
            for info in infos:
                if not info.is_dir():
                    _check_prolog(archive, info)
    except DomainError:
        raise
    except Exception:  # a damaged zip, a CRC error, an unsupported compression…
        raise _corrupt() from None


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    # S314: only called after check_package refused every DOCTYPE and entity declaration.
    return ElementTree.fromstring(archive.read(name))  # noqa: S314


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The part of the first worksheet (the one openpyxl calls `worksheets[0]`), following
    the package relationships. Called only after `check_package`."""
    root = _xml(archive, "_rels/.rels")
    book = next(
        (
            r.get("Target")
            for r in root.iter(f"{_REL_NS}Relationship")
            if r.get("Type", "").endswith("/officeDocument")
        ),
        None,
    )
    if not book:
        return None
    book = book.lstrip("/")
    folder, name = posixpath.split(book)
    rels = _xml(archive, posixpath.join(folder, "_rels", name + ".rels"))
    targets = {
        r.get("Id"): r.get("Target", "")
        for r in rels.iter(f"{_REL_NS}Relationship")
        if r.get("Type", "").endswith("/worksheet")
    }
    for sheet in _xml(archive, book).iter(f"{_MAIN_NS}sheet"):
        target = targets.get(sheet.get(_DOC_REL))
        if target:
            return (
                target.lstrip("/")
                if target.startswith("/")
                else posixpath.normpath(posixpath.join(folder, target))
            )
    return None


def _formula_cells(content: bytes, last_row: int) -> set[tuple[int, int]]:
    """(row, column) of every cell of the first worksheet that holds a formula, up to
    `last_row`. Best effort: a file whose layout cannot be followed reports none."""
    cells: set[tuple[int, int]] = set()
    current: list[str | None] = [None]

    def start(name, attrs):
        local = name.rpartition(":")[2]
        if local == "row" and int(attrs.get("r", "0") or 0) > last_row:
            raise _Stop
        if local == "c":
            current[0] = attrs.get("r")
        elif local == "f" and current[0]:
            cells.add(coordinate_to_tuple(current[0]))

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            part = _first_sheet_part(archive)
            if part is None:
                return cells
            parser = expat.ParserCreate()
            parser.StartElementHandler = start
            with archive.open(part) as stream:
                while chunk := stream.read(_CHUNK):
                    parser.Parse(chunk, False)
    except Exception:  # noqa: S110 — _Stop ends the pass; any other failure only loses notes
        pass
    return cells


@dataclass
class SheetRows:
    """The rows read from the first worksheet. `rows[i]` is sheet row i + 1 (blank rows are
    kept, as empty tuples or tuples of None, so row numbers are the ones the office sees)."""

    rows: list[tuple] = field(default_factory=list)
    formulas: set[tuple[int, int]] = field(default_factory=set)  # (row, column), 1-based
    stopped_after_blank_run: bool = False


def _blank(values) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def read_first_sheet(
    content: bytes, *, max_rows: int, max_columns: int = 64, blank_run: int = 1000
) -> SheetRows:
    """The first worksheet's values (cached results for formulas), safely and within bounds."""
    check_is_xlsx(content)
    check_package(content)
    result = SheetRows()
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise _corrupt() from None
    try:
        if not workbook.worksheets:
            raise _corrupt()
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # a stored size may be a lie (A1:XFD1048576)
        blanks = 0
        for values in sheet.iter_rows(min_row=1, max_col=max_columns, values_only=True):
            if len(result.rows) >= max_rows:
                raise DomainError(
                    f"表格超过 {max_rows} 行（含空行），请删除多余的行或拆分后分批导入。",
                    code="too_many_rows",
                    field="file",
                )
            blanks = blanks + 1 if _blank(values) else 0
            if blanks >= blank_run:
                result.stopped_after_blank_run = True
                del result.rows[len(result.rows) - blanks + 1 :]
                break
            result.rows.append(tuple(values))
    except DomainError:
        raise
    except Exception:  # any parser failure means the same thing to the person uploading
        raise _corrupt() from None
    finally:
        workbook.close()
    result.formulas = _formula_cells(content, len(result.rows))
    return result
