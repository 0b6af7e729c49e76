"""Certificates (5.2.10): a 荣誉证书 for a granted title, a 志愿服务证明 for any date range of
settled service hours.

What a certificate attests is frozen at issue in `snapshot` (name masked) and sealed with
HMAC-SHA256 under a key derived from SECRET_KEY. The PDF is rendered from the snapshot and
carries a QR code to /verify/<serial>/?h=<mac>, a public page that shows the snapshot when the
serial exists, is not revoked and the mac matches both the stored seal and a fresh seal of the
stored snapshot — so a forged serial, an altered mac, a snapshot altered in the database or a
revoked certificate all get 「证书不存在或已被篡改」."""

import hashlib
import hmac
import json
import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Min, Sum
from django.template.loader import render_to_string
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.audit.services import record_event
from hongfeng.core.errors import Conflict, DomainError, Forbidden
from hongfeng.core.masking import mask_name
from hongfeng.core.numbers import two_places
from hongfeng.honours.models import Certificate, CertificateKind, HonourGrant
from hongfeng.honours.services.common import association_of, clean_text, team_of
from hongfeng.members.models import Member

SERIAL_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud safely
MAC_LENGTH = 32  # hex characters = 128 bits
MAX_ITEMS = 200  # activities listed on a statement (the sum always covers all)
EARLIEST = date(2000, 1, 1)


def _key() -> bytes:
    return hmac.new(
        settings.SECRET_KEY.encode(), b"hongfeng:honours.certificate", hashlib.sha256
    ).digest()


def _canonical(serial: str, kind: str, snapshot: dict) -> bytes:
    payload = {"serial": serial, "kind": kind, "snapshot": snapshot}
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def seal(serial: str, kind: str, snapshot: dict) -> str:
    """The certificate's seal: HMAC-SHA256 over the canonical snapshot, 128 bits in hex."""
    return hmac.new(_key(), _canonical(serial, kind, snapshot), hashlib.sha256).hexdigest()[
        :MAC_LENGTH
    ]


def _new_serial(today: date) -> str:
    body = "".join(secrets.choice(SERIAL_ALPHABET) for _ in range(10))
    return f"HF{today:%Y}{body}"


def verify_certificate(serial: str, mac: str) -> Certificate | None:
    """The certificate if `serial` and `mac` belong to a genuine, unaltered, unrevoked one."""
    serial = (serial or "").strip().upper()
    mac = (mac or "").strip().lower()
    if not (8 <= len(serial) <= 24) or len(mac) != MAC_LENGTH:
        return None
    certificate = Certificate.objects.filter(serial=serial).first()
    if certificate is None or certificate.revoked:
        return None
    fresh = seal(certificate.serial, certificate.kind, certificate.snapshot)
    if not (hmac.compare_digest(fresh, mac) and hmac.compare_digest(certificate.mac, mac)):
        return None
    return certificate


def verify_url(certificate: Certificate, base_url: str) -> str:
    base = (settings.PUBLIC_BASE_URL or base_url or "").rstrip("/")
    return f"{base}/verify/{certificate.serial}/?h={certificate.mac}"


def _may_issue(actor, member: Member) -> bool:
    return member.user_id == actor.pk or access.can(actor, "honours.grant", member.unit)


def _base_snapshot(member: Member, today: date) -> dict:
    team = team_of(member)
    association = association_of(team)
    return {
        "v": 1,
        "name": mask_name(member.name),
        "team": team.name,
        "unit": member.unit.name,
        "issuer": association.name if association else team.name,
        "issued_on": today.isoformat(),
    }


def _create(*, actor, member: Member, kind: str, snapshot: dict, grant=None) -> Certificate:
    now = timezone.now()
    while True:
        serial = _new_serial(timezone.localdate(now))
        if not Certificate.objects.filter(serial=serial).exists():
            break
    certificate = Certificate.objects.create(
        serial=serial,
        kind=kind,
        member=member,
        grant=grant,
        snapshot=snapshot,
        mac=seal(serial, kind, snapshot),
        issued_by=actor,
        issued_at=now,
    )
    record_event(
        action="certificate.issued",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"serial": serial, "kind": kind, "own": member.user_id == actor.pk},
    )
    return certificate


@transaction.atomic
def issue_honour_certificate(*, actor, grant: HonourGrant) -> Certificate:
    """A 荣誉证书 for a title the member holds (the member themselves, or an admin in scope)."""
    member = grant.member
    if not _may_issue(actor, member):
        raise Forbidden("您无权为该队员开具证书。")
    today = timezone.localdate()
    title = grant.title
    snapshot = {
        **_base_snapshot(member, today),
        "kind": CertificateKind.HONOUR,
        "honour": title.name,
        "honour_issuer": title.association.name,
        "granted_on": grant.granted_on.isoformat(),
        "reason": grant.reason,
    }
    return _create(
        actor=actor, member=member, kind=CertificateKind.HONOUR, snapshot=snapshot, grant=grant
    )


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def statement_items(member: Member, start: date, end: date) -> list[dict]:
    """Settled hours per activity that started in [start, end] (both days included), from the
    HoursEntry ledger — settlements and corrections summed."""
    from hongfeng.activities.models import HoursEntry

    rows = (
        HoursEntry.objects.filter(
            member=member,
            activity__starts_at__gte=_day_start(start),
            activity__starts_at__lt=_day_start(end + timedelta(days=1)),
        )
        .values("activity_id", "activity__title", "activity__starts_at")
        .annotate(total=Sum("hours"), first=Min("recorded_at"))
        .order_by("activity__starts_at", "activity_id")
    )
    return [
        {
            "date": timezone.localdate(r["activity__starts_at"]).isoformat(),
            "title": r["activity__title"],
            "hours": str(two_places(r["total"])),
        }
        for r in rows
        if r["total"]
    ]


@transaction.atomic
def issue_service_statement(*, actor, member: Member, start: date, end: date) -> Certificate:
    """A 志愿服务证明: the member's settled service hours for activities that started between
    `start` and `end` (inclusive), summed from the ledger, with the activities listed."""
    from hongfeng.activities.selectors import hours_between

    if not _may_issue(actor, member):
        raise Forbidden("您无权为该队员开具证明。")
    today = timezone.localdate()
    if start > end:
        raise DomainError("开始日期不能晚于结束日期。", code="invalid_range", field="start")
    if start < EARLIEST or end > today:
        raise DomainError(
            f"日期须在 {EARLIEST:%Y年%m月%d日} 至今天之间。", code="invalid_range", field="end"
        )
    hours = hours_between(member, _day_start(start), _day_start(end + timedelta(days=1)))
    items = statement_items(member, start, end)
    snapshot = {
        **_base_snapshot(member, today),
        "kind": CertificateKind.SERVICE_HOURS,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "hours": str(two_places(hours)),
        "activities": len(items),
        "items": items[:MAX_ITEMS],
    }
    return _create(
        actor=actor, member=member, kind=CertificateKind.SERVICE_HOURS, snapshot=snapshot
    )


@transaction.atomic
def revoke_certificate(*, actor, certificate: Certificate, reason: str) -> Certificate:
    """Withdraw a certificate (issued by mistake, honour withdrawn): its verification page
    answers 「证书不存在或已被篡改」 from now on."""
    certificate = (
        Certificate.objects.select_for_update()
        .select_related("member__unit")
        .get(pk=certificate.pk)
    )
    access.require(actor, "honours.grant", certificate.member.unit, "您无权撤销该证书。")
    reason = clean_text(reason, field="reason", label="撤销原因", limit=200)
    if certificate.revoked:
        raise Conflict("该证书已撤销。", code="already_revoked")
    certificate.revoked_at = timezone.now()
    certificate.revoked_by = actor
    certificate.revoke_reason = reason
    certificate.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record_event(
        action="certificate.revoked",
        actor=actor,
        target=certificate.member,
        unit=certificate.member.unit,
        summary={"serial": certificate.serial, "reason": reason},
    )
    return certificate


def qr_data_uri(url: str) -> str:
    """The QR code as a PNG data URI (embedded in the PDF as an image; no file, no network)."""
    import segno

    return segno.make(url, error="m").png_data_uri(scale=8, border=2)


def certificate_pdf(*, actor, certificate: Certificate, base_url: str) -> bytes:
    """The PDF of an issued certificate (the member's own, or an admin's for members in scope),
    rendered from the sealed snapshot with a QR code to the verification page; audited."""
    from weasyprint import HTML  # imported here: loading Pango costs ~0.3 s at start-up

    member = certificate.member
    own = member.user_id == actor.pk
    if not own and not access.can(actor, "honours.grant", member.unit):
        raise Forbidden("您无权下载该证书。")
    if certificate.revoked:
        raise Conflict("该证书已撤销，不能下载。", code="revoked")
    url = verify_url(certificate, base_url)
    html = render_to_string(
        "honours/certificate_pdf.html",
        {
            "certificate": certificate,
            "s": certificate.snapshot,
            "full_name": member.name,
            "qr": qr_data_uri(url),
            "verify_url": url,
        },
    )
    pdf = HTML(string=html).write_pdf()
    record_event(
        action="certificate.downloaded",
        actor=actor,
        target=member,
        unit=member.unit,
        summary={"serial": certificate.serial, "own": own},
    )
    return pdf


__all__ = [
    "certificate_pdf",
    "issue_honour_certificate",
    "issue_service_statement",
    "qr_data_uri",
    "revoke_certificate",
    "seal",
    "statement_items",
    "verify_certificate",
    "verify_url",
]
