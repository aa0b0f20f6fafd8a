"""What the core needs of each protocol to register a relying party of its kind.

The SAML and OIDC adapters each register a :class:`Kind` at start-up (``register``); the
portal, the review and the CLI reach the protocols only through it, so that self-service and
the operators' console never import an adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from flask import Flask, current_app

EXTENSION = "kleidi.relying_party_kinds"


class Refused(ValueError):
    """A registration that cannot be accepted: ``code`` is an RP-xxx error code, ``detail``
    says exactly what (in English, for the page and the CLI)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Checked:
    """Settings that passed a kind's checks, normalised, and what they say of the RP."""

    identifier: str
    settings: dict
    #: Internal attribute names the settings themselves ask for (SAML RequestedAttribute).
    requested: frozenset = frozenset()
    names: dict = field(default_factory=dict)
    contacts: dict = field(default_factory=dict)
    #: An OIDC client authenticating with a secret: the core issues one, shown once.
    needs_secret: bool = False


class Kind(Protocol):
    """One protocol's part in registration. Implementations must not commit."""

    name: str

    def check(self, settings: dict, identifier: str | None) -> Checked:
        """Validate what an RP admin gave (``identifier``: the RP's, when it is an edit);
        raise :class:`Refused` with the first problem."""

    def attributes(self) -> tuple[str, ...]:
        """The internal attribute names an RP of this kind can be released."""

    def publish(self, identifier: str, approved: dict, secret_hash: str | None, *,
                actor: str) -> None:
        """Make ``approved`` (settings and release) the version logins use, on every instance
        (``actor``: who approved it, for the audit trail)."""

    def served(self) -> list[str]:
        """The identifiers of the RPs registered with this kind (through the portal or its
        own commands) that :meth:`withdraw` can stop serving, sorted."""

    def withdraw(self, identifier: str, *, actor: str) -> bool:
        """Stop serving the RP: forget it, end its sessions and tokens. True if it was known."""

    def preview(self, account, identifier: str, approved: dict) -> dict[str, list[str]]:
        """Exactly the attributes and values ``account`` would be sent under ``approved``."""


def register(app: Flask, kind: Kind) -> None:
    app.extensions.setdefault(EXTENSION, {})[kind.name] = kind


def of(name: str) -> Kind:
    return current_app.extensions[EXTENSION][name]
