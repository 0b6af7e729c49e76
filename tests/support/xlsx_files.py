"""Hand-made .xlsx files for the roster tests: what LibreOffice or an attacker may put in the
XML that openpyxl would never write (a DOCTYPE, a formula with its cached value, a stored size
that lies, rows far apart). Built with zipfile, part by part."""

import io
import zipfile
from xml.sax.saxutils import escape

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<workbook xmlns="{NS}" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lollollollollollollollollollol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
)
XXE = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell(ref: str, value) -> str:
    """A cell as LibreOffice writes it: text inline, numbers as <v>, a formula as
    ("=FORMULA", cached value) with its cached result."""
    if isinstance(value, tuple):
        formula, cached = value
        kind = ' t="str"' if isinstance(cached, str) else ""
        cached_xml = "" if cached is None else f"<v>{escape(str(cached))}</v>"
        return f'<c r="{ref}"{kind}><f>{escape(formula.lstrip("="))}</f>{cached_xml}</c>'
    if value is None:
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def sheet_xml(rows, *, prolog: str = "", dimension: str | None = None) -> str:
    """`rows`: (row number, [values]) pairs; values may hold raw XML text (entity references)."""
    body = "".join(
        f'<row r="{number}">'
        + "".join(cell(f"{column_letter(i)}{number}", v) for i, v in enumerate(values))
        + "</row>"
        for number, values in rows
    )
    size = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<worksheet xmlns="{NS}">{size}<sheetData>{body}</sheetData></worksheet>'
    )


def package(
    sheet: str | bytes,
    *,
    extra: dict | None = None,
    workbook_prolog: str = "",
    sheet_part: str = "worksheets/sheet1.xml",
) -> bytes:
    """The zip around a worksheet part (named `sheet_part` under xl/)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK.replace("?>", "?>" + workbook_prolog, 1))
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            WORKBOOK_RELS.replace("worksheets/sheet1.xml", sheet_part),
        )
        archive.writestr(f"xl/{sheet_part}", sheet)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def roster(rows, **kwargs) -> bytes:
    """A roster: the header in row 1, then (row number, values) pairs."""
    header = (
        1,
        [
            "姓名",
            "身份证号",
            "手机号",
            "分队",
            "小组",
            "人员类别",
            "政治面貌",
            "专业技能",
            "入队日期",
        ],
    )
    return package(sheet_xml([header, *rows], **kwargs))
