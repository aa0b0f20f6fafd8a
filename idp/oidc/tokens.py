"""Authorization codes, access tokens, grants and refresh-token families.

Only hashes of codes and tokens are kept. Codes and access tokens are short-lived
store entries; grants and refresh tokens are rows (see ``models``). Every token
descends from one grant: revoking the grant (code replay, refresh-token reuse,
password change, disabled account) makes all of them useless at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from idp import audit, clock, db
from idp.models import Account
from idp.oidc.models import OidcGrant, OidcRefreshToken
from idp.store import store


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class AuthorizationCode:
    """A stored code as authlib's grant reads it."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    account_id: int
    auth_time: int
    nonce: str | None = None
    acr: str | None = None
    amr: list = field(default_factory=list)
    sid: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    exp: int = 0

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return self.acr

    def get_amr(self):
        return self.amr


def save_code(code: str, **record) -> None:
    ttl = current_app.config["OIDC_CODE_TTL_SECONDS"]
    record["exp"] = clock.timestamp() + ttl
    store().put("oidc:code:" + digest(code), {"code_hash": digest(code), **record}, ttl)


def take_code(code: str, client_id: str) -> AuthorizationCode | None:
    """The code, removed so it can never work twice; a replay revokes what it issued."""
    code_hash = digest(code)
    record = store().consume("oidc:code:" + code_hash)
    if record is None:
        used = store().get("oidc:code-used:" + code_hash)
        if used:
            revoke_grant(used["grant"], reason="code_replay")
        return None
    if record["client_id"] != client_id or record["exp"] <= clock.timestamp():
        return None
    return AuthorizationCode(**record)


def start_grant(code: AuthorizationCode, account: Account) -> OidcGrant:
    """The grant (refresh-token family) born of a code exchange (the caller commits).

    The returned object is not attached to the session: read it, do not change it.
    """
    now = clock.now()
    grant = OidcGrant(
        id=secrets.token_urlsafe(32), client_id=code.client_id, account_id=account.id,
        scope=code.scope, account_epoch=account.session_epoch, sid=code.sid,
        auth_time=code.auth_time, acr=code.acr, amr=code.amr, created_at=now,
        expires_at=now + timedelta(seconds=current_app.config["OIDC_REFRESH_ABSOLUTE_SECONDS"]),
    )
    # A plain INSERT (no unit of work): this runs on every code exchange.
    db.session().execute(sa.insert(OidcGrant).values(
        {column.key: getattr(grant, column.key) for column in OidcGrant.__table__.columns}))
    # Remember the code's fate for as long as a replay is worth noticing.
    store().put("oidc:code-used:" + code.code_hash, {"grant": grant.id},
                current_app.config["OIDC_CODE_REPLAY_MEMORY_SECONDS"])
    return grant


def add_refresh_token(grant: OidcGrant, token: str) -> None:
    db.session().execute(sa.insert(OidcRefreshToken).values(
        token_hash=digest(token), grant_id=grant.id, created_at=clock.now()))


def use_refresh_token(token: str, client_id: str) -> OidcGrant | None:
    """The live grant of an unused refresh token, which is marked used; reuse kills the family."""
    session = db.session()
    row = session.get(OidcRefreshToken, digest(token)) if isinstance(token, str) else None
    if row is None:
        return None
    grant = session.get(OidcGrant, row.grant_id)
    if grant.client_id != client_id:
        return None
    claimed = session.execute(
        sa.update(OidcRefreshToken)
        .where(OidcRefreshToken.token_hash == row.token_hash, OidcRefreshToken.used_at.is_(None))
        .values(used_at=clock.now())
    ).rowcount
    if claimed != 1:
        session.rollback()
        revoke_grant(grant.id, reason="refresh_reuse")
        return None
    if not grant_is_live(grant):
        session.commit()
        return None
    return grant


def grant_is_live(grant: OidcGrant | None) -> bool:
    """Not revoked, within its absolute lifetime, and its account unchanged and active.

    A grant found dead because of its account is revoked on the spot, so that
    a later password reset cannot bring it back.
    """
    if grant is None or grant.revoked_at is not None:
        return False
    if _aware(grant.expires_at) <= clock.now():
        return False
    account = db.session().get(Account, grant.account_id)
    if account is None or account.status != "active" or account.session_epoch != grant.account_epoch:
        grant.revoked_at = clock.now()
        return False
    return True


def _aware(moment):
    # SQLite hands datetimes back without their zone; everything we store is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.now().tzinfo)


def revoke_grant(grant_id: str, *, reason: str) -> None:
    """End a grant and every token descending from it, audited and committed at once."""
    session = db.session()
    ended = session.execute(sa.update(OidcGrant).where(
        OidcGrant.id == grant_id, OidcGrant.revoked_at.is_(None)
    ).values(revoked_at=clock.now())).rowcount
    grant = session.get(OidcGrant, grant_id)
    if ended and grant is not None:
        # A replayed code or refresh token means one was stolen: worth an audit entry.
        audit.record("oidc.grant_revoked", account=session.get(Account, grant.account_id),
                     actor="system", client_id=grant.client_id, reason=reason)
    session.commit()


def save_access_token(token: str, grant: OidcGrant, scope: str) -> None:
    ttl = current_app.config["OIDC_ACCESS_TOKEN_TTL_SECONDS"]
    now = clock.timestamp()
    store().put("oidc:at:" + digest(token), {
        "grant": grant.id, "client_id": grant.client_id, "account_id": grant.account_id,
        "scope": scope, "iat": now, "exp": now + ttl,
    }, ttl)


def find_access_token(token: str) -> dict | None:
    if not isinstance(token, str) or len(token) > 200:
        return None
    return store().get("oidc:at:" + digest(token))


def revoke_access_token(token: str) -> None:
    store().delete("oidc:at:" + digest(token))


def find_refresh_token(token: str) -> tuple[OidcRefreshToken, OidcGrant] | None:
    row = db.session().get(OidcRefreshToken, digest(token)) if isinstance(token, str) else None
    return (row, db.session().get(OidcGrant, row.grant_id)) if row else None


def grants_of_session(sid: str) -> list[OidcGrant]:
    return list(db.session().scalars(sa.select(OidcGrant).where(OidcGrant.sid == sid)))
