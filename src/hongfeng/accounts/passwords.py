"""Password composition rules.

`dengbao` (default): 等保 2.0 practice in Chinese deployments — at least `min_length` characters
drawn from at least three of upper case, lower case, digits and symbols.
`asvs`: OWASP ASVS 5.0 — length only (composition rules discourage long passphrases); the
common-password list still applies. docs/security.md explains the deviation.
"""

import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from hongfeng.core.errors import DomainError


def check_password_rules(password: str, user=None, *, field: str = "password") -> None:
    """Every configured rule (the profile below, similarity, common passwords); a DomainError
    `weak_password` naming what is wrong."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError("；".join(exc.messages), code="weak_password", field=field) from None


class ProfilePasswordValidator:
    def __init__(self, profile: str = "dengbao", min_length: int = 8):
        self.profile = profile
        self.min_length = min_length

    def validate(self, password, user=None):
        if len(password) < self.min_length:
            raise ValidationError(f"密码至少{self.min_length}位。", code="password_too_short")
        if len(password) > 128:
            raise ValidationError("密码不能超过128位。", code="password_too_long")
        if self.profile == "dengbao":
            classes = sum(
                (
                    any(c.isupper() for c in password),
                    any(c.islower() for c in password),
                    any(c.isdigit() for c in password),
                    any(c in string.punctuation for c in password),
                )
            )
            if classes < 3:
                raise ValidationError(
                    "密码须包含大写字母、小写字母、数字、符号中的至少三类。",
                    code="password_composition",
                )
        if user is not None and getattr(user, "mobile", "") and user.mobile in password:
            raise ValidationError("密码不能包含手机号。", code="password_contains_mobile")

    def get_help_text(self):
        if self.profile == "dengbao":
            return f"至少{self.min_length}位，包含大写字母、小写字母、数字、符号中的至少三类。"
        return f"至少{self.min_length}位，建议使用长口令。"
