"""Roster onboarding (4.5 队伍一键入驻): validate a whole roster first, report every bad row,
then import all of it — or, only when the user asks, just the valid rows — through one bulk
path that writes the same rows as registering members one by one (file, account, 队员 role,
status history, audit event), fast enough for thousands of rows."""

import logging
from itertools import batched

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction
from django.utils import timezone

from hongfeng.accounts import access
from hongfeng.accounts.models import Role, RoleAssignment, User
from hongfeng.audit.services import record_event, record_events
from hongfeng.core import crypto
from hongfeng.core.errors import DomainError
from hongfeng.core.idnumber import parse_id_number
from hongfeng.core.pinyin import pinyin_of
from hongfeng.core.sheet_reader import check_is_xlsx
from hongfeng.members.catalogue import PRIVACY_NOTICE_VERSION
from hongfeng.members.models import (
    Consent,
    ConsentKind,
    ImportStatus,
    Member,
    MemberStatus,
    RosterImport,
    StatusChange,
)
from hongfeng.members.roster import RosterRow, read_roster
from hongfeng.members.roster_checks import check_against_file_and_database, report_of
from hongfeng.members.services.identity import ID_INDEX, id_number_index

logger = logging.getLogger(__name__)
_CHUNK = 500
UNEXPECTED_FAILURE = (
    "校验或导入时出错，未导入任何队员。请检查文件后重新上传；如仍失败，请联系系统管理员。"
)
IMPORT_REASON = "名册导入（队伍一键入驻）"


def validate(roster_import: RosterImport) -> list[RosterRow]:
    """Read and check every row; store the counts, the report and any notice about the file.
    Nothing else is written. A file that cannot be read raises a DomainError."""
    roster = read_roster(bytes(roster_import.content), roster_import.team)
    check_against_file_and_database(roster.rows)
    rows = roster.rows
    valid = sum(1 for r in rows if r.ok)
    RosterImport.objects.filter(pk=roster_import.pk).update(
        status=ImportStatus.VALIDATED,
        total_rows=len(rows),
        valid_rows=valid,
        error_rows=len(rows) - valid,
        report=report_of(rows),
        message=roster.notice[:300],
    )
    return rows


def _fail(import_id: int, exc: Exception, *, status=None) -> None:
    """Mark an import failed with a message and a code, and drop the upload: whatever went
    wrong, an import never stays "in progress" (2.6)."""
    if isinstance(exc, DomainError):
        message, code = exc.message, exc.code
    else:
        logger.error("roster import %s failed: %s", import_id, type(exc).__name__, exc_info=exc)
        message, code = UNEXPECTED_FAILURE, "import_failed"
    rows = RosterImport.objects.filter(pk=import_id)
    if status is not None:
        rows = rows.filter(status=status)
    rows.update(
        status=ImportStatus.FAILED,
        message=message[:300],
        error_code=code[:40],
        content=b"",  # the upload is not kept once it is of no use
        finished_at=timezone.now(),
    )


def _member(row: RosterRow, user: User, now) -> Member:
    pinyin, initials = pinyin_of(row.name)
    info = parse_id_number(row.id_number)
    return Member(
        user=user,
        unit=row.unit,
        name=row.name,
        name_pinyin=pinyin,
        name_initials=initials,
        id_number_encrypted=crypto.encrypt(row.id_number, field=ID_INDEX),
        id_number_index=id_number_index(row.id_number),
        id_last4=row.id_number[-4:],
        birth_date=info.birth_date,
        gender=info.gender,
        address=row.address,
        emergency_contact=row.emergency_contact,
        emergency_mobile=row.emergency_mobile,
        political_status=row.political_status,
        category=row.category,
        status=MemberStatus.ACTIVE,
        status_changed_at=now,
        joined_on=row.joined_on or timezone.localdate(),
    )


@transaction.atomic
def import_rows(*, actor, roster_import: RosterImport, rows: list[RosterRow]) -> int:
    """Write the valid rows in bulk (one transaction; rows checked again under it): accounts,
    member files with their skills and first history row, the 队员 role, the consent and the
    audit events — a set-based twin of register_member for every row."""
    team = roster_import.team
    access.require(actor, "members.manage", team, "您无权向该队伍导入队员。")
    rows = [r for r in rows if r.ok]
    now = timezone.now()
    accounts = _accounts_for(rows)
    members = [_member(r, accounts[r.mobile], now) for r in rows]
    created = []
    for chunk in batched(members, _CHUNK):
        created.extend(Member.objects.bulk_create(chunk))
    _link_skills(created, rows)
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                member=m,
                from_status="",
                to_status=MemberStatus.ACTIVE,
                reason=IMPORT_REASON,
                changed_by=actor,
                changed_at=now,
            )
            for m in created
        ],
        batch_size=_CHUNK,
    )
    _join_team(created, team, actor)
    _record_consents(created, roster_import, now)
    _audit(created, actor, roster_import)
    return len(created)


def _accounts_for(rows: list[RosterRow]) -> dict[str, User]:
    """Each row's account by mobile: the existing one (validation has checked it may be
    used), else a new one without a password (activated by SMS)."""
    existing = {
        u.mobile: u
        for chunk in batched([r.mobile for r in rows], _CHUNK)
        for u in User.objects.filter(mobile__in=chunk)
    }
    new_users = [
        User(
            mobile=r.mobile,
            name=r.name,
            name_pinyin=pinyin_of(r.name)[0],
            password=make_password(None),
        )
        for r in rows
        if r.mobile not in existing
    ]
    for chunk in batched(new_users, _CHUNK):
        for user in User.objects.bulk_create(chunk):
            existing[user.mobile] = user
    return existing


def _link_skills(created: list[Member], rows: list[RosterRow]) -> None:
    through = Member.skills.through
    skill_ids = dict(Member.skills.field.related_model.objects.values_list("code", "pk"))
    links = [
        through(member_id=m.pk, skill_id=skill_ids[code])
        for m, r in zip(created, rows, strict=True)
        for code in dict.fromkeys(r.skills)
    ]
    through.objects.bulk_create(links, batch_size=_CHUNK)


def _join_team(created: list[Member], team, actor) -> None:
    """Leaders already hold their role in the team; everyone else becomes a 队员 of the unit."""
    in_team = set(
        RoleAssignment.objects.active()
        .filter(user__in=[m.user_id for m in created], unit__path__startswith=team.path)
        .values_list("user_id", flat=True)
    )
    RoleAssignment.objects.bulk_create(
        [
            RoleAssignment(user_id=m.user_id, role=Role.VOLUNTEER, unit=m.unit, granted_by=actor)
            for m in created
            if m.user_id not in in_team
        ],
        batch_size=_CHUNK,
    )


def _record_consents(created: list[Member], roster_import: RosterImport, now) -> None:
    """The privacy consent the team collected on paper, named after this import."""
    Consent.objects.bulk_create(
        [
            Consent(
                user_id=m.user_id,
                kind=ConsentKind.PRIVACY,
                text_version=f"{PRIVACY_NOTICE_VERSION}（名册导入 #{roster_import.pk}）",
                consented_at=now,
            )
            for m in created
        ],
        batch_size=_CHUNK,
    )


def _audit(created: list[Member], actor, roster_import: RosterImport) -> None:
    """One member.registered event per member, and the import's own."""
    record_events(
        [
            {
                "action": "member.registered",
                "actor": actor,
                "target": m,
                "unit": m.unit,
                "summary": {
                    "status": MemberStatus.ACTIVE,
                    "unit": m.unit_id,
                    "import": roster_import.pk,
                },
            }
            for m in created
        ]
    )
    team = roster_import.team
    record_event(
        action="roster.imported",
        actor=actor,
        target=team,
        unit=team,
        summary={
            "import": roster_import.pk,
            "members": len(created),
            "skipped": roster_import.total_rows - len(created),
        },
    )


# --- the import lifecycle: upload → validate (task) → confirm → import (task) ---------------


def _enqueue(task_name: str, import_id: int) -> None:
    """Queue a task once the transaction that created its work has committed."""
    from hongfeng.members import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.enqueue(import_id))


@transaction.atomic
def start_import(
    *, actor, team, filename: str, content: bytes, consent_confirmed: bool
) -> RosterImport:
    """Accept an uploaded roster for a team and queue its validation. The uploader confirms
    that everyone on it agreed to the privacy notice (offices collect it on paper)."""
    from hongfeng.members.roster import MAX_BYTES
    from hongfeng.orgs.models import UnitKind

    if team.kind != UnitKind.TEAM or team.is_archived:
        raise DomainError("名册按总队导入，请在一个在册的总队下操作。", code="invalid_unit")
    access.require(actor, "members.manage", team, "您无权向该队伍导入队员。")
    if not consent_confirmed:
        raise DomainError(
            "请确认已取得名册中每个人对个人信息处理的同意。",
            code="consent_required",
            field="consent",
        )
    name = (filename or "").strip()[:200] or "名册.xlsx"
    if len(content) > MAX_BYTES:
        raise DomainError(
            "文件过大（上限 10 MB）。请拆分后分批导入。", code="file_too_large", field="file"
        )
    check_is_xlsx(content)  # what the file really is, by its bytes, not by its name (3.4)
    roster_import = RosterImport.objects.create(
        team=team, filename=name, content=content, created_by=actor
    )
    record_event(
        action="roster.uploaded",
        actor=actor,
        target=team,
        unit=team,
        summary={"import": roster_import.pk, "bytes": len(content)},
    )
    _enqueue("validate_roster", roster_import.pk)
    return roster_import


def run_validation(import_id: int) -> None:
    """Validate an uploaded roster once. The row is locked for the whole run: a second worker
    waits, then finds it done; a killed worker rolls back and leaves it to be retried."""
    with transaction.atomic():
        roster_import = (
            RosterImport.objects.select_for_update()
            .select_related("team")
            .filter(pk=import_id, status=ImportStatus.UPLOADED)
            .first()
        )
        if roster_import is None:
            return  # already validated (a retried task): nothing to do
        try:
            with transaction.atomic():  # a savepoint: a failure leaves nothing half-written
                validate(roster_import)
        except Exception as exc:  # any failure at all ends the import, with its reason
            _fail(import_id, exc)


@transaction.atomic
def confirm_import(*, actor, roster_import: RosterImport, valid_only: bool) -> RosterImport:
    """Start the import: all rows (only if every row passed), or — when asked — the valid
    rows only."""
    access.require(actor, "members.manage", roster_import.team, "您无权向该队伍导入队员。")
    roster_import = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
    if roster_import.status != ImportStatus.VALIDATED:
        raise DomainError("该名册当前不能导入（尚未校验完成，或已经导入）。", code="invalid_state")
    if roster_import.error_rows and not valid_only:
        raise DomainError(
            f"有 {roster_import.error_rows} 行未通过校验。请修正后重新上传，"
            "或选择「仅导入通过校验的行」。",
            code="rows_have_errors",
        )
    if not roster_import.valid_rows:
        raise DomainError("没有可导入的行。", code="nothing_to_import")
    RosterImport.objects.filter(pk=roster_import.pk).update(
        status=ImportStatus.IMPORTING, valid_only=valid_only
    )
    roster_import.refresh_from_db()
    record_event(
        action="roster.confirmed",
        actor=actor,
        target=roster_import.team,
        unit=roster_import.team,
        summary={
            "import": roster_import.pk,
            "valid_only": valid_only,
            "rows": roster_import.valid_rows,
        },
    )
    _enqueue("import_roster", roster_import.pk)
    return roster_import


def run_import(import_id: int) -> None:
    """Import a confirmed roster once, in one transaction holding the import's row lock: of two
    workers only one imports; a killed worker rolls everything back and the task can run
    again."""
    try:
        with transaction.atomic():
            roster_import = (
                RosterImport.objects.select_for_update()
                .select_related("team", "created_by")
                .filter(pk=import_id, status=ImportStatus.IMPORTING)
                .first()
            )
            if roster_import is None:
                return  # done already, or never confirmed
            if roster_import.team.is_archived:
                raise DomainError("该队伍已归档，未导入任何队员。", code="unit_archived")
            rows = _read_again(roster_import)
            bad = sum(1 for r in rows if not r.ok)
            if bad and not roster_import.valid_only:
                raise DomainError(
                    f"导入前复核发现 {bad} 行有问题，未导入任何队员。", code="rows_have_errors"
                )
            count = import_rows(
                actor=roster_import.created_by, roster_import=roster_import, rows=rows
            )
            RosterImport.objects.filter(pk=import_id).update(
                status=ImportStatus.DONE,
                imported_rows=count,
                content=b"",
                report=report_of(rows),
                finished_at=timezone.now(),
                message=f"已导入 {count} 名队员" + (f"，跳过 {bad} 行" if bad else "") + "。",
            )
    except IntegrityError:
        _fail(
            import_id,
            DomainError(
                "导入时有人同时登记了其中的队员，未导入任何队员；请重新上传名册。",
                code="concurrent_registration",
            ),
            status=ImportStatus.IMPORTING,
        )
    except DomainError as exc:
        _fail(import_id, exc, status=ImportStatus.IMPORTING)
    # Anything else (a database restart, a killed worker) rolls back and leaves the import
    # "importing", so the task can simply run again.


def _read_again(roster_import: RosterImport) -> list[RosterRow]:
    """The rows read and checked again under the import's lock (others may have registered
    since). Reading the same bytes fails the same way every time, so any failure here ends the
    import (as a DomainError) instead of leaving a task that can never succeed."""
    try:
        rows = read_roster(bytes(roster_import.content), roster_import.team).rows
        check_against_file_and_database(rows)
    except DomainError:
        raise
    except Exception as exc:
        logger.error("roster import %s: reading failed", roster_import.pk, exc_info=exc)
        raise DomainError(UNEXPECTED_FAILURE, code="import_failed") from None
    return rows


def visible_imports(user):
    """Imports of the teams the user keeps (the access choke point for rosters)."""
    return RosterImport.objects.filter(access.scope_q(user, "members.manage", "team"))


def import_synchronously(
    *, actor, team, filename: str, content: bytes, valid_only: bool = False
) -> RosterImport:
    """Upload, validate and import in one go without the task queue — for the demo data, the
    benchmark and tests: the same steps the queue runs, one after the other."""
    roster_import = start_import(
        actor=actor, team=team, filename=filename, content=content, consent_confirmed=True
    )
    run_validation(roster_import.pk)
    roster_import.refresh_from_db()
    if (
        roster_import.status == ImportStatus.VALIDATED
        and roster_import.valid_rows
        and (valid_only or not roster_import.error_rows)
    ):
        confirm_import(actor=actor, roster_import=roster_import, valid_only=valid_only)
        run_import(roster_import.pk)
        roster_import.refresh_from_db()
    return roster_import
