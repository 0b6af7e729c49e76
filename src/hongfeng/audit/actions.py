"""Every audit action code with the label auditors read: what the apps registered
(`registry.audit_actions`, each app the codes its services write). A code nobody registered is
refused by the audit services, so the audit browser can always explain what an event means."""

from collections.abc import Iterator, Mapping

from hongfeng.core import registry


class _Labels(Mapping):
    """code → label over the registry (read after every app's ready())."""

    def __getitem__(self, code: str) -> str:
        entry = registry.audit_actions.get(code)
        if entry is None:
            raise KeyError(code)
        return entry.label

    def __contains__(self, code: object) -> bool:
        return code in registry.audit_actions

    def __iter__(self) -> Iterator[str]:
        return (entry.code for entry in registry.audit_actions)

    def __len__(self) -> int:
        return len(registry.audit_actions)


ACTIONS: Mapping[str, str] = _Labels()


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)
