"""How a refused new password is shown, the same on every page that sets one (activation,
password change, recovery): each reason under the field it concerns, and in the page's
error summary (``templates/macros.html``: ``error_summary``, ``new_password``)."""

from __future__ import annotations

from idp.credentials.password_policy import PasswordPolicy


def show_problems(new, repeat, found: list[str], policy: PasswordPolicy) -> None:
    """Add the reasons ``found`` to the form fields: a mismatch to ``repeat``, the rest to
    ``new``."""
    for key, message in zip(found, policy.messages(found), strict=True):
        target = repeat if key == "mismatch" else new
        target.errors = [*target.errors, message]
