"""Who may get a member file (5.2.2 实名登记): the real name, the ID number (found through its
blind index, never searched), the age, the joining date, and the account a new file may belong
to. Registration, the API, the page forms, the roster import and recruitment share these."""

from datetime import date

from django.utils import timezone

from hongfeng.accounts.models import THREE_POWERS, RoleAssignment, User
from hongfeng.core import crypto
from hongfeng.core.errors import Conflict, DomainError
from hongfeng.core.workbooks import looks_like_formula
from hongfeng.members.models import Member

# The blind index's purpose (and the encryption's field) for ID numbers.
ID_INDEX = "members.id_number"


def clean_person_name(raw: str | None, *, field_name: str = "name") -> str:
    """A real name (5.2.2 实名登记): spaces removed, at most 30 characters, no digits, and not
    starting like a spreadsheet formula (= + - @), which would be a live formula in exports."""
    name = "".join((raw or "").split())
    if not name:
        raise DomainError("请填写真实姓名。", code="name_required", field=field_name)
    if looks_like_formula(name):
        raise DomainError("姓名不能以 =、+、-、@ 开头。", code="invalid_name", field=field_name)
    if len(name) > 30 or any(ch.isdigit() for ch in name):
        raise DomainError(
            "姓名应为真实姓名（不超过30个字，不含数字）。", code="invalid_name", field=field_name
        )
    return name


def id_number_index(number: str) -> str:
    return crypto.blind_index(number, purpose=ID_INDEX)


def find_member_by_id_number(number: str) -> Member | None:
    """Exact lookup through the blind index (duplicate detection; never exposed as a search)."""
    return Member.objects.filter(id_number_index=id_number_index(number)).first()


# *Decision*: volunteers are adults (the charter's joining condition; data about children is
# sensitive and they are not sent on patrols).
MIN_AGE = 18


def check_age(born: date, *, field_name: str = "id_number") -> None:
    today = timezone.localdate()
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age < MIN_AGE:
        raise DomainError(f"义警须年满{MIN_AGE}周岁。", code="too_young", field=field_name)


# *Decision* (issue 15, item 3.2): the standard sets no joining age; a joining date before the
# member turned 16 is taken for a typing error. (Registering today still needs MIN_AGE.)
MIN_JOINING_AGE = 16


def turned(born: date, years: int) -> date:
    """The day someone born on `born` turns `years` (29 February → 1 March in common years)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return date(born.year + years, 3, 1)


def check_joined_on(joined_on: date, born: date | None, *, field_name: str = "joined_on") -> None:
    """An impossible joining date (5.2.7 一人一档 must be true): not after today, and not before
    the member turned MIN_JOINING_AGE. Registration, the API, the page form and the roster
    import all call this one rule."""
    today = timezone.localdate()
    if joined_on > today:
        raise DomainError(
            f"入队日期（{joined_on:%Y-%m-%d}）不能晚于今天。",
            code="invalid_joined_on",
            field=field_name,
        )
    if born is not None and joined_on < turned(born, MIN_JOINING_AGE):
        raise DomainError(
            f"入队日期（{joined_on:%Y-%m-%d}）早于该队员年满{MIN_JOINING_AGE}周岁的日子"
            f"（{turned(born, MIN_JOINING_AGE):%Y-%m-%d}），请核对。",
            code="invalid_joined_on",
            field=field_name,
        )


def attachable_account(mobile: str, name: str) -> User | None:
    """The existing account a new member file may belong to, or None for a new account. A
    number that already has a member file, an account under another name, or an account of the
    three powers is refused: registration never attaches a person to someone else's account."""
    user = User.objects.filter(mobile=mobile).first()
    if user is None:
        return None
    if Member.objects.filter(user=user).exists():
        raise Conflict("该手机号已属于另一名队员。", code="duplicate_mobile", field="mobile")
    if user.name != name:
        raise Conflict(
            "该手机号已注册账号，但姓名与之不一致。", code="mobile_taken", field="mobile"
        )
    if RoleAssignment.objects.active().filter(user=user, role__in=THREE_POWERS).exists():
        raise Conflict(
            "三权分立：系统管理员、安全管理员、审计员的账号不能登记为队员。",
            code="three_powers_conflict",
            field="mobile",
        )
    return user
