"""Decimal amounts as people read them (issue 15, item 3.7): service hours and points carry two
decimal places. SQLite hands a SUM over a decimal column back with fifteen significant digits
(2.62 → 2.62000000000000); PostgreSQL keeps the column's scale. Both mean the same number, so
the trailing zeros are dropped wherever such a value is shown or stored."""

import re
from decimal import Decimal, InvalidOperation

TWO_PLACES = Decimal("0.01")
_DECIMAL_TEXT = re.compile(r"^-?\d+\.\d{3,}$")


def two_places(value) -> Decimal:
    """Rounded to two places (half-even, like the database): for values stored or sealed."""
    return Decimal(str(value)).quantize(TWO_PLACES)


def tidy(value: Decimal) -> Decimal:
    """2.62000000000000 → 2.62; a value with more real digits (1.255) is left alone."""
    if not value.is_finite() or value.as_tuple().exponent >= -2:
        return value
    rounded = value.quantize(TWO_PLACES)
    return rounded if rounded == value else value


def tidy_strings(data):
    """The same for decimal-looking strings inside stored JSON (a certificate's snapshot
    sealed before the amounts were rounded at issue): "2.62000000000000" → "2.62"."""
    if isinstance(data, dict):
        return {key: tidy_strings(value) for key, value in data.items()}
    if isinstance(data, list):
        return [tidy_strings(value) for value in data]
    if isinstance(data, str) and _DECIMAL_TEXT.match(data):
        try:
            return str(tidy(Decimal(data)))
        except InvalidOperation:
            return data
    return data
