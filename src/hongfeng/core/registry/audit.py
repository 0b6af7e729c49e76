"""Audit actions: every code an audit event may carry, with the label auditors read. The audit
app refuses an event whose code nobody registered, so the audit browser can always explain what
an event means. Each app registers the codes its services write, named "<subject>.<what>"."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from hongfeng.core.registry.base import Registry, RegistryError


@dataclass(frozen=True)
class AuditAction:
    code: str
    label: str  # Chinese, as the audit browser shows it


_CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")


def _check(action: AuditAction) -> None:
    if not _CODE.match(action.code):
        raise RegistryError(f"audit action {action.code!r}: name it '<subject>.<what>'")
    if not action.label:
        raise RegistryError(f"audit action {action.code!r} needs a Chinese label")


audit_actions: Registry[AuditAction] = Registry("audit actions", key=lambda a: a.code, check=_check)


def register_audit_actions(labels: Mapping[str, str]) -> None:
    """Register {code: label} at once (an app's whole list)."""
    audit_actions.register_all(AuditAction(code, label) for code, label in labels.items())
