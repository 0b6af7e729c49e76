"""Masking of personal data for display, exports and logs (security.md: masked by default)."""

import re

# A mainland ID number (18 characters, last may be X) or a mobile number, not inside a longer
# run of digits. Used by the log filter, so it errs on the side of masking.
ID_NUMBER_PATTERN = re.compile(r"(?<![0-9])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9Xx])")
MOBILE_PATTERN = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def mask_mobile(mobile: str | None) -> str:
    """138****5678."""
    if not mobile:
        return ""
    if len(mobile) < 7:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    """3301**********1234 (first four and last four kept)."""
    if not id_number:
        return ""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return f"{id_number[:4]}{'*' * (len(id_number) - 8)}{id_number[-4:]}"


def mask_name(name: str | None) -> str:
    """张*三 for three characters, 张* for two, 欧**锋 for four: the first and last stay."""
    if not name:
        return ""
    if len(name) == 1:
        return name
    if len(name) == 2:
        return f"{name[0]}*"
    return f"{name[0]}{'*' * (len(name) - 2)}{name[-1]}"


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number inside free text (log lines, error messages)."""
    text = ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group(0)), text)
    return MOBILE_PATTERN.sub(lambda m: mask_mobile(m.group(0)), text)
