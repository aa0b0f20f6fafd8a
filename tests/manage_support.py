"""Operators for tests of the console: an account with roles and a TOTP app, signed in.

Use the ``make_operator`` fixture (tests/conftest.py)::

    def test_something(app, make_operator):
        helpdesk = make_operator("helpdesk")              # roles; a TOTP app is enrolled
        client = helpdesk.client()                        # signed in: password, then code
        page = client.get("/manage/people")

``make_operator("office", second_factor=False)`` makes one without a second factor;
``operator.sign_in(client, code=False)`` stops after the password (no second step).
"""

from __future__ import annotations

from dataclasses import dataclass

from mfa_helpers import code, enrol

from idp import db
from idp.identity import accounts, operators


@dataclass
class TestOperator:
    """An operator account of a test: its credentials and TOTP secret (None: not enrolled)."""

    __test__ = False  # not a test class

    app: object
    clock: object
    username: str
    password: str
    secret: str | None
    roles: tuple[str, ...]

    def sign_in(self, client, *, code_step: bool = True, language: str | None = None):
        """Log ``client`` in through the login page, then (if enrolled and ``code_step``)
        the second step with the current TOTP code; returns the last response."""
        from conftest import _login, csrf_token

        if language:
            client.set_cookie("kleidi_lang", language, domain="localhost")
        response = _login(client, self.username, self.password)
        if self.secret is None or not code_step:
            return response
        assert response.headers["Location"].endswith("/login/second-factor"), response.headers
        page = client.get("/login/second-factor")
        response = client.post("/login/second-factor", data={
            "csrf_token": csrf_token(page), "code": code(self.app, self.secret)})
        assert response.status_code == 303, response.get_data(as_text=True)
        self.clock.advance(30)  # the code's time step is used: the next sign-in needs another
        return response

    def client(self, language: str | None = None):
        """A new test client, signed in with password and code."""
        client = self.app.test_client()
        self.sign_in(client, language=language)
        return client


def make(app, clock, make_account, *roles: str, second_factor: bool = True,
         username: str | None = None, role: str = "staff") -> TestOperator:
    username, password = make_account(username, role=role)
    with app.test_request_context():
        account = accounts.find_by_username(username)
        for granted in roles:
            operators.grant(account, granted, actor="test")
        db.session().commit()
    secret = enrol(app, clock, username)[0] if second_factor else None
    return TestOperator(app, clock, username, password, secret, tuple(roles))
