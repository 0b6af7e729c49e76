"""The Excel files members work produces: the roster template, the check report of an import,
and the roster export (masked unless revealed; watermarked with who exported it and when). All
are written through `hongfeng.core.workbooks`, which never lets a name become a formula."""

from django.utils import timezone

from hongfeng.core.masking import mask_mobile
from hongfeng.core.workbooks import XLSX, Column, Kind, WorkbookWriter
from hongfeng.members.models import (
    SERVING,
    Category,
    MemberStatus,
    PoliticalStatus,
    RosterImport,
    Skill,
)
from hongfeng.members.roster import TEMPLATE_HEADERS
from hongfeng.orgs.models import Unit, UnitKind

__all__ = ["XLSX", "import_report", "roster_export", "roster_template"]

_TEMPLATE_ROWS = 2000
_TEMPLATE_WIDTHS = [10, 22, 14, 12, 12, 16, 14, 20, 12, 30, 12, 14]


def roster_template(team: Unit) -> bytes:
    """The template offices fill in: ID and phone columns preformatted as text (so Excel cannot
    turn an ID number into 3.30681E+17), drop-down lists for fixed choices."""
    squads = list(
        Unit.objects.active()
        .filter(parent=team, kind=UnitKind.SQUAD)
        .values_list("name", flat=True)
    )
    choices = {
        "分队": squads,
        "人员类别": [label for _, label in Category.choices],
        "政治面貌": [label for _, label in PoliticalStatus.choices],
    }
    text_columns = {"身份证号", "手机号", "紧急联系电话"}
    columns = [
        Column(
            header,
            Kind.TEXT if header in text_columns else Kind.GENERAL,
            width=width,
            choices=choices.get(header, ()),
        )
        for header, width in zip(TEMPLATE_HEADERS, _TEMPLATE_WIDTHS, strict=True)
    ]
    book = WorkbookWriter()
    sheet = book.add_sheet(
        "队员名册", columns, title=f"{team.name} 队员名册（第2行为表头，请勿修改）"
    )
    sheet.prepare_rows(_TEMPLATE_ROWS)
    book.add_text_sheet(
        "填写说明",
        [
            "1. 每行一名队员；姓名、身份证号、手机号必填。",
            "2. 身份证号、手机号请保持「文本」格式，不要改成数字（否则末尾数字会丢失）。",
            "3. 分队、小组须与系统中的名称一致；只填分队则编入分队，都不填则编入总队。",
            "4. 专业技能用顿号分隔，可选："
            + "、".join(Skill.objects.values_list("name", flat=True)),
            "5. 入队日期写成 2024-03-01；不填则为导入当天。"
            "入队日期不能晚于今天，也不能早于该队员年满16周岁的日子。",
            "6. 导入前会逐行校验；有错误的行会在报告中列出原因，自动修正过的内容也会逐项列出。",
        ],
        title="填写说明",
    )
    return book.to_bytes()


def import_report(roster_import: RosterImport) -> bytes:
    """Every row that has a problem (or was repaired), with the reasons — names masked."""
    book = WorkbookWriter()
    sheet = book.add_sheet(
        "校验报告",
        [
            Column("行号", Kind.INTEGER, width=8),
            Column("姓名", width=10),
            Column("编入单位", width=16),
            Column("问题", width=70, wrap=True),
            Column("已自动修正", width=50, wrap=True),
        ],
        title=(
            f"{roster_import.team.name} 名册「{roster_import.filename}」校验报告：共 "
            f"{roster_import.total_rows} 行，通过 {roster_import.valid_rows} 行，"
            f"有错误 {roster_import.error_rows} 行"
        ),
    )
    for entry in roster_import.report:
        sheet.append(
            [
                entry["row"],
                entry["name"],
                entry["unit"],
                "；".join(entry["errors"]) or "—",
                "；".join(entry["notes"]),
            ]
        )
    return book.to_bytes()


def scope_note(*, include_left: bool, left_out: int) -> str:
    """Which members the export holds — said in its header and on the page offering it."""
    serving = "、".join(MemberStatus(s).label for s in MemberStatus.values if s in SERVING)
    left = "、".join(MemberStatus(s).label for s in MemberStatus.values if s not in SERVING)
    if include_left:
        return f"范围：全部队员（{serving}，以及{left}的队员）"
    note = f"范围：在册队员（{serving}）；不含{left}的队员"
    return note + (f"（另有 {left_out} 人未列出）" if left_out else "")


def roster_export(
    members, *, viewer, reveal: bool, unit: Unit, include_left: bool = False, left_out: int = 0
) -> bytes:
    """The roster of a unit. ID numbers and mobiles are masked unless `reveal` (which the
    service allows only with the permission and a reason, and audits)."""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    book = WorkbookWriter()
    sheet = book.add_sheet(
        "队员名册",
        [
            Column("姓名", width=10),
            Column("性别", width=6),
            Column("出生日期", Kind.DATE, width=12)
            if reveal
            else Column("年龄", Kind.INTEGER, width=8),
            Column("身份证号", width=22),
            Column("手机号", width=14),
            Column("所在单位", width=16),
            Column("状态", width=10),
            Column("人员类别", width=16),
            Column("政治面貌", width=14),
            Column("专业技能", width=24),
            Column("入队日期", Kind.DATE, width=12),
        ],
        title=(
            f"{unit.name} 队员名册 · 导出人：{viewer.name} · 导出时间：{stamp} · "
            + ("含明文个人信息，严禁外传" if reveal else "个人信息已脱敏")
        ),
        notes=[scope_note(include_left=include_left, left_out=left_out)],
    )
    today = timezone.localdate()
    for member in members:
        sheet.append(
            [
                member.name,
                member.get_gender_display(),
                # with the masked ID number, the birth date would give the whole number away
                member.birth_date if reveal else member.age_on(today),
                member.id_number if reveal else member.masked_id_number,
                member.user.mobile if reveal else mask_mobile(member.user.mobile),
                member.unit.name,
                member.get_status_display(),
                member.get_category_display(),
                member.get_political_status_display(),
                "、".join(s.name for s in member.skills.all()),
                member.joined_on,
            ]
        )
    return book.to_bytes()
