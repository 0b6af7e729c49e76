"""Downloads keep their Chinese names, amounts read 2.62 not 2.62000000000000, and dates stay on
one line in every PDF (issue 15, item 3.7)."""

import io
import re
from datetime import date
from urllib.parse import unquote

import pytest
from django.utils import timezone
from pypdf import PdfReader

from hongfeng.core.downloads import ascii_fallback, content_disposition
from hongfeng.core.numbers import tidy, tidy_strings
from hongfeng.honours.models import Certificate
from hongfeng.honours.services import issue_service_statement
from hongfeng.members.models import Member
from tests.support.paths import SRC

# a date the PDF broke across lines: 「2026年12月8」 at the end of one line, 「日」 on the next
BROKEN_DATE = re.compile(r"\d{4}年[0-9月]*\s*\n\s*[0-9月日]")


def _filename(header: str) -> str:
    """How a browser reads the header (RFC 6266: filename* wins over filename)."""
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    assert extended, header
    assert re.search(r'filename="[A-Za-z0-9._-]+"', header), header  # the ASCII fallback
    return unquote(extended.group(1), errors="strict")


def test_content_disposition_carries_both_names():
    header = content_disposition("张三-档案.pdf")
    assert header == (
        'attachment; filename="download.pdf"; '
        "filename*=UTF-8''%E5%BC%A0%E4%B8%89-%E6%A1%A3%E6%A1%88.pdf"
    )
    assert header.isascii()
    assert _filename(header) == "张三-档案.pdf"
    assert _filename(content_disposition('a"b;c d.xlsx')) == 'a"b;c d.xlsx'


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("张三-档案.pdf", "download.pdf"),
        ("roster-2026-12.xlsx", "roster-2026-12.xlsx"),
        ("红枫义警总队-队员名册-20261208.xlsx", "20261208.xlsx"),
        ('../"x"\r\n.pdf', "x.pdf"),
        ("没有扩展名", "download"),
    ],
)
def test_ascii_fallback(name, fallback):
    assert ascii_fallback(name) == fallback


def _download_urls(cast) -> list[tuple[str, str, str]]:
    member = Member.objects.get(name="张三")
    certificate = Certificate.objects.filter(member=member).first()
    team = cast.units["hongfeng"]
    return [
        ("captain", f"/members/{member.pk}/file.pdf", "张三-档案.pdf"),
        (
            "volunteer",
            f"/honours/certificates/{certificate.pk}.pdf",
            f"荣誉证书-{certificate.serial}.pdf",
        ),
        (
            "captain",
            f"/members/roster/template.xlsx?team={team.pk}",
            f"{team.name}-队员名册模板.xlsx",
        ),
    ]


def test_every_download_keeps_its_name(cast, page_as, api_as):
    for who, url, name in _download_urls(cast):
        response = page_as(who).get(url)
        assert response.status_code == 200, url
        header = response["Content-Disposition"]
        assert header.isascii() and "=?utf-8?" not in header.lower(), header
        assert _filename(header) == name
    certificate = Certificate.objects.filter(member__name="张三").first()
    response = api_as("volunteer").get(f"/certificates/{certificate.pk}/pdf")
    assert _filename(response["Content-Disposition"]) == f"荣誉证书-{certificate.serial}.pdf"


def test_one_helper_writes_every_download_header():
    """Every download response in the project goes through hongfeng.core.downloads."""
    pattern = re.compile(r"Content-Disposition|FileResponse|as_attachment")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "downloads.py" and pattern.search(path.read_text())
    ]
    assert offenders == []


@pytest.mark.parametrize(
    ("raw", "shown"),
    [("2.62000000000000", "2.62"), ("3", "3"), ("1.255", "1.255"), ("-0.50000", "-0.50")],
)
def test_tidy(raw, shown):
    from decimal import Decimal

    assert str(tidy(Decimal(raw))) == shown


def test_api_amounts_have_two_places(cast, api_as):
    """SQLite sums decimals to fifteen digits; the API shows the amount."""
    member = Member.objects.get(name="张三")
    body = api_as("captain").get(f"/members/{member.pk}").content.decode()
    assert not re.search(r'"-?\d+\.\d*0{3,}\d*"', body)
    assert re.search(r'"service_hours": "\d+(\.\d{1,2})?"', body)


def test_certificate_snapshots_have_two_places(cast, api_as):
    member = Member.objects.get(name="张三")
    certificate = issue_service_statement(
        actor=cast.users["volunteer"],
        member=member,
        start=date(2000, 1, 1),
        end=timezone.localdate(),
    )
    hours = [item["hours"] for item in certificate.snapshot["items"]]
    assert hours and all(re.fullmatch(r"\d+\.\d\d", h) for h in hours), hours
    # one sealed before the rounding: the API shows it tidied (the stored seal is untouched)
    first = {**certificate.snapshot["items"][0], "hours": "2.62000000000000"}
    old = {**certificate.snapshot, "items": [first]}
    Certificate.objects.filter(pk=certificate.pk).update(snapshot=old)
    listed = api_as("volunteer").get("/me/certificates").json()["items"]
    shown = next(c for c in listed if c["id"] == certificate.pk)
    assert shown["snapshot"]["items"][0]["hours"] == "2.62"
    assert tidy_strings({"a": ["2.62000000000000", "HF2026X", "2026-12-08"]}) == {
        "a": ["2.62", "HF2026X", "2026-12-08"]
    }


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_dates_stay_on_one_line(cast, page_as):
    member = Member.objects.get(name="张三")
    file_text = _pdf_text(page_as("captain").get(f"/members/{member.pk}/file.pdf").content)
    statement = issue_service_statement(
        actor=cast.users["volunteer"],
        member=member,
        start=date(timezone.localdate().year, 1, 1),
        end=timezone.localdate(),
    )
    statement_text = _pdf_text(
        page_as("volunteer").get(f"/honours/certificates/{statement.pk}.pdf").content
    )
    for text in (file_text, statement_text):
        assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", text)
        assert not BROKEN_DATE.search(text), BROKEN_DATE.findall(text)
