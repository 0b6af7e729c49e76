"""Honours, certificates and violations (5.2.10) — the services the API, the pages, the
`grant_honours` command and the demo call."""

from hongfeng.honours.services.certificates import (
    certificate_pdf,
    issue_honour_certificate,
    issue_service_statement,
    revoke_certificate,
    seal,
    verify_certificate,
    verify_url,
)
from hongfeng.honours.services.honours import (
    create_title,
    grant_honour,
    grant_honours_by_rule,
    retire_title,
)
from hongfeng.honours.services.violations import (
    decide_exit,
    issue_warning,
    set_violation_rule,
    violation_rule_for,
    violation_rule_terms,
)

__all__ = [
    "certificate_pdf",
    "create_title",
    "decide_exit",
    "grant_honour",
    "grant_honours_by_rule",
    "issue_honour_certificate",
    "issue_service_statement",
    "issue_warning",
    "retire_title",
    "revoke_certificate",
    "seal",
    "set_violation_rule",
    "verify_certificate",
    "verify_url",
    "violation_rule_for",
    "violation_rule_terms",
]
