"""What an uploaded file really is, from its bytes — never from its name (issue 15, item 3.4: a
CSV renamed .xlsx was refused with a message about .xls). `identify(content)` names the kind;
`FileKind.label` says it in Chinese for messages such as "这是一个 CSV 文本文件，…"."""

import io
import zipfile
from enum import StrEnum

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SNIFF_BYTES = 4096


class FileKind(StrEnum):
    """The kinds people actually upload by mistake, and the one we want (XLSX)."""

    EMPTY = "empty", "空文件"
    XLSX = "xlsx", "Excel 工作簿（.xlsx）"
    ODS = "ods", "OpenDocument 表格（.ods）"
    DOCX = "docx", "Word 文档（.docx）"
    ZIP = "zip", "压缩包（.zip）"
    OLE2 = "ole2", "旧版 Excel 文件（.xls），或设置了打开密码的 Excel 文件"
    XML_2003 = "xml_2003", "Excel 2003 XML 表格"
    HTML = "html", "网页（HTML）文件"
    CSV = "csv", "CSV 文本文件"
    TEXT = "text", "纯文本文件"
    PDF = "pdf", "PDF 文件"
    IMAGE = "image", "图片"
    OTHER = "other", "无法识别格式的文件"

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


_IMAGES = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"BM",
    b"II*\x00",
    b"MM\x00*",
)


def _zip_kind(content: bytes) -> FileKind:
    """A zip file: an xlsx (or xlsm), another office format, or just an archive. Only the
    central directory is read."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100]
                if b"opendocument.spreadsheet" in mimetype:
                    return FileKind.ODS
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return FileKind.XLSX  # damaged but zip-shaped: let the reader say it is corrupt
    if any(name.startswith("xl/") for name in names) or "[Content_Types].xml" in names:
        return FileKind.DOCX if "word/document.xml" in names else FileKind.XLSX
    return FileKind.ZIP


def _decode(head: bytes) -> str | None:
    encodings = ["utf-8-sig", "gb18030"]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 only with its byte-order mark
        encodings.insert(0, "utf-16")
    for encoding in encodings:
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _text_kind(head: bytes) -> FileKind:
    # A multi-byte character may be cut at the end of the sniffed bytes: drop a few.
    text = _decode(head) or _decode(head[:-3])
    if text is None:
        return FileKind.OTHER
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    if not text or printable < 0.95 * len(text):
        return FileKind.OTHER
    start = text.lstrip().lower()
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in text:
        return FileKind.XML_2003
    if start.startswith(("<!doctype html", "<html", "<table", "<meta")):
        return FileKind.HTML
    lines = [line for line in text.splitlines() if line.strip()][:20]
    for separator in (",", "\t", ";", "，"):
        # the same number of separators on (nearly) every line: a table saved as text
        first = lines[0].count(separator) if lines else 0
        same = sum(line.count(separator) == first for line in lines)
        if first >= 1 and same >= 0.8 * len(lines):
            return FileKind.CSV
    return FileKind.TEXT


def identify(content: bytes) -> FileKind:
    """The kind of file, from its first bytes (and, for a zip, its list of parts)."""
    if not content:
        return FileKind.EMPTY
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(content)
    if content.startswith(_OLE2):
        return FileKind.OLE2
    if content.startswith(b"%PDF"):
        return FileKind.PDF
    if content.startswith(_IMAGES) or (content[:4] == b"RIFF" and content[8:12] == b"WEBP"):
        return FileKind.IMAGE
    return _text_kind(content[:_SNIFF_BYTES])
