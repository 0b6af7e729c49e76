"""The Excel files members work produces: the roster template, the check report of an import,
and the roster export (masked unless revealed; watermarked with who exported it and when)."""

import io

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from hongfeng.core.masking import mask_mobile
from hongfeng.members.models import Category, PoliticalStatus, RosterImport, Skill
from hongfeng.members.roster import TEMPLATE_HEADERS
from hongfeng.orgs.models import Unit, UnitKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="FDE9E7")
_TEMPLATE_ROWS = 2000


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(sheet, row: int, headers: list[str], widths: list[int]) -> None:
    for column, (title, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = sheet.cell(row=row, column=column, value=title)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        sheet.column_dimensions[get_column_letter(column)].width = width


def roster_template(team: Unit) -> bytes:
    """The template offices fill in: ID and phone columns preformatted as text (so Excel cannot
    turn an ID number into 3.30681E+17), drop-down lists for fixed choices."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "队员名册"
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(TEMPLATE_HEADERS))
    sheet.cell(row=1, column=1, value=f"{team.name} 队员名册（第2行为表头，请勿修改）").font = Font(
        bold=True, size=14
    )
    _header(sheet, 2, TEMPLATE_HEADERS, [10, 22, 14, 12, 12, 16, 14, 20, 12, 30, 12, 14])
    for column in (2, 3, 12):  # 身份证号, 手机号, 紧急联系电话
        letter = get_column_letter(column)
        for row in range(3, _TEMPLATE_ROWS + 3):
            sheet[f"{letter}{row}"].number_format = "@"
    sheet.freeze_panes = "A3"
    squads = list(
        Unit.objects.active()
        .filter(parent=team, kind=UnitKind.SQUAD)
        .values_list("name", flat=True)
    )
    lists = {
        4: squads,
        6: [label for _, label in Category.choices],
        7: [label for _, label in PoliticalStatus.choices],
    }
    for column, values in lists.items():
        if not values:
            continue
        validation = DataValidation(
            type="list", formula1='"' + ",".join(values) + '"', allow_blank=True
        )
        letter = get_column_letter(column)
        validation.add(f"{letter}3:{letter}{_TEMPLATE_ROWS + 2}")
        sheet.add_data_validation(validation)
    help_sheet = workbook.create_sheet("填写说明")
    lines = [
        "填写说明",
        "1. 每行一名队员；姓名、身份证号、手机号必填。",
        "2. 身份证号、手机号请保持「文本」格式，不要改成数字（否则末尾数字会丢失）。",
        "3. 分队、小组须与系统中的名称一致；只填分队则编入分队，都不填则编入总队。",
        "4. 专业技能用顿号分隔，可选：" + "、".join(Skill.objects.values_list("name", flat=True)),
        "5. 入队日期写成 2024-03-01；不填则为导入当天。",
        "6. 导入前会逐行校验；有错误的行会在报告中列出原因。",
    ]
    for row, text in enumerate(lines, start=1):
        help_sheet.cell(row=row, column=1, value=text).font = _BOLD if row == 1 else Font()
    help_sheet.column_dimensions["A"].width = 100
    return _save(workbook)


def import_report(roster_import: RosterImport) -> bytes:
    """Every row that has a problem (or was repaired), with the reasons — names masked."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "校验报告"
    sheet.cell(
        row=1,
        column=1,
        value=(
            f"{roster_import.team.name} 名册「{roster_import.filename}」校验报告：共 "
            f"{roster_import.total_rows} 行，通过 {roster_import.valid_rows} 行，"
            f"有错误 {roster_import.error_rows} 行"
        ),
    ).font = _BOLD
    _header(sheet, 2, ["行号", "姓名", "编入单位", "问题", "已自动修正"], [8, 10, 16, 70, 40])
    for row, entry in enumerate(roster_import.report, start=3):
        sheet.cell(row=row, column=1, value=entry["row"])
        sheet.cell(row=row, column=2, value=entry["name"])
        sheet.cell(row=row, column=3, value=entry["unit"])
        sheet.cell(
            row=row, column=4, value="；".join(entry["errors"]) or "—"
        ).alignment = Alignment(wrap_text=True)
        sheet.cell(row=row, column=5, value="；".join(entry["notes"]))
    return _save(workbook)


def roster_export(members, *, viewer, reveal: bool, unit: Unit) -> bytes:
    """The roster of a unit. ID numbers and mobiles are masked unless `reveal` (which the
    service allows only with the permission and a reason, and audits)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "队员名册"
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    sheet.cell(
        row=1,
        column=1,
        value=(
            f"{unit.name} 队员名册 · 导出人：{viewer.name} · 导出时间：{stamp} · "
            + ("含明文个人信息，严禁外传" if reveal else "个人信息已脱敏")
        ),
    ).font = Font(bold=True, color="C0392B")
    headers = [
        "姓名",
        "性别",
        "出生日期" if reveal else "年龄",
        "身份证号",
        "手机号",
        "所在单位",
        "状态",
        "人员类别",
        "政治面貌",
        "专业技能",
        "入队日期",
    ]
    _header(sheet, 2, headers, [10, 6, 12, 22, 14, 16, 10, 16, 14, 24, 12])
    for row, member in enumerate(members, start=3):
        values = [
            member.name,
            member.get_gender_display(),
            # with the masked ID number, the birth date would give the whole number away
            member.birth_date if reveal else member.age_on(timezone.localdate()),
            member.id_number if reveal else member.masked_id_number,
            member.user.mobile if reveal else mask_mobile(member.user.mobile),
            member.unit.name,
            member.get_status_display(),
            member.get_category_display(),
            member.get_political_status_display(),
            "、".join(s.name for s in member.skills.all()),
            member.joined_on,
        ]
        for column, value in enumerate(values, start=1):
            cell = sheet.cell(row=row, column=column, value=value)
            if column in (4, 5):
                cell.number_format = "@"
    return _save(workbook)
