"""Mainland resident ID numbers (GB 11643-1999): 17 digits and a check character. The birth
date and the gender are read from the number, so they are never typed twice."""

import re
from dataclasses import dataclass
from datetime import date

from hongfeng.core.errors import DomainError

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"^[1-9]\d{16}[\dX]$")
_FULL_WIDTH = {0xFF10 + i: ord("0") + i for i in range(10)} | {0xFF38: ord("X"), 0xFF58: ord("X")}


def check_character(first17: str) -> str:
    """The 18th character for the first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def normalize_id_number(raw) -> str:
    """Full-width digits and X become ASCII, spaces and dashes go, a lowercase x is upper."""
    text = str(raw if raw is not None else "").translate(_FULL_WIDTH)
    return re.sub(r"[\s\-\u3000]", "", text).upper()


def _birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def is_valid_id_number(value: str) -> bool:
    """Shape, check character and a real birth date."""
    value = normalize_id_number(value)
    return bool(
        _SHAPE.match(value)
        and check_character(value[:17]) == value[17]
        and _birth_date(value) is not None
    )


@dataclass(frozen=True)
class IdInfo:
    number: str
    birth_date: date
    gender: str  # "male" / "female": the 17th digit is odd for men


def parse_id_number(raw, *, field: str = "id_number", today: date | None = None) -> IdInfo:
    """Validate and read an ID number, or explain in Chinese exactly what is wrong."""
    number = normalize_id_number(raw)
    if not number:
        raise DomainError("请填写身份证号。", code="id_required", field=field)
    if len(number) == 15 and number.isdigit():
        raise DomainError(
            "这是已停用的15位第一代身份证号，请填写18位身份证号。",
            code="invalid_id_number",
            field=field,
        )
    if len(number) != 18:
        raise DomainError(
            f"身份证号应为18位，当前为{len(number)}位。", code="invalid_id_number", field=field
        )
    if not _SHAPE.match(number):
        raise DomainError(
            "身份证号只能由17位数字和最后一位数字或X组成。", code="invalid_id_number", field=field
        )
    born = _birth_date(number)
    today = today or date.today()  # noqa: DTZ011 — a calendar date, no time zone involved
    if born is None or born > today or born.year < 1900:
        raise DomainError("身份证号中的出生日期不正确。", code="invalid_id_number", field=field)
    if check_character(number[:17]) != number[17]:
        raise DomainError(
            "身份证号校验位不正确，请核对是否有输错的数字。", code="invalid_id_number", field=field
        )
    return IdInfo(
        number=number, birth_date=born, gender="male" if int(number[16]) % 2 else "female"
    )
