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
from idp.identity.models import Account, Person
from idp.oidc.models import OidcClient, OidcGrant, OidcRefreshToken
from idp.store import Issue, store

# Built once: constant statements are compiled once and then found in SQLAlchemy's cache.
INSERT_REFRESH_TOKEN = sa.insert(OidcRefreshToken.__table__)
# A refresh token's grant with the account's state, as plain columns: one round trip, no ORM
# objects (every refresh runs it).
FIND_REFRESH_TOKEN = sa.select(
    OidcRefreshToken.token_hash, OidcRefreshToken.used_at, OidcGrant.id, OidcGrant.client_id,
    OidcGrant.account_id, OidcGrant.scope, OidcGrant.revoked_at, OidcGrant.expires_at,
    OidcGrant.account_epoch, Account.status, Account.session_epoch, Person.academic_id,
    Person.released_academic_id,
).join(OidcGrant, OidcGrant.id == OidcRefreshToken.grant_id).join(
    Account, Account.id == OidcGrant.account_id).join(Person, Person.id == Account.person_id).where(
    OidcRefreshToken.token_hash == sa.bindparam("hash"))
# A code's account, for a code issued without its sub (see grants.AuthorizationCodeGrant).
ACCOUNT_FOR_EXCHANGE = sa.select(Account.status, Account.session_epoch, Person.academic_id,
                                 Person.released_academic_id).join(
    Person, Person.id == Account.person_id).where(Account.id == sa.bindparam("id"))
_REFRESH = OidcRefreshToken.__table__
_GRANT = OidcGrant.__table__
_GRANT_VALUES = ("id", "client_id", "account_id", "scope", "account_epoch", "sid", "auth_time",
                 "acr", "amr", "created_at", "expires_at")
# The grant a code exchange starts, inserted only if the code's account is still active and
# its password unchanged since the code was issued (same session epoch): the check and the
# write are one statement.
# The grant is started only if its account is still active and unchanged, and its client
# still registered: an instance that still knows a removed client (OIDC_CLIENT_CACHE_SECONDS)
# may hand out a code, but the code starts nothing, and the access token stored when it was
# taken names a grant that never exists.
START_GRANT = sa.insert(_GRANT).from_select(_GRANT_VALUES, sa.select(*(
    sa.bindparam(name, type_=_GRANT.c[name].type) for name in _GRANT_VALUES
)).where(sa.exists().where(
    Account.id == sa.bindparam("account_id"), Account.status == "active",
    Account.session_epoch == sa.bindparam("account_epoch")), sa.exists().where(
    OidcClient.client_id == sa.bindparam("client_id")))).execution_options(
    preserve_rowcount=True)  # SQLAlchemy keeps an INSERT's rowcount only when asked
# PostgreSQL: the grant and its first refresh token in one statement (a data-modifying WITH,
# which SQLite lacks), committed by itself: one round trip for the exchange's whole write.
_STARTED = START_GRANT.returning(_GRANT.c.id).cte("started")
START_GRANT_WITH_REFRESH_TOKEN = sa.insert(_REFRESH).from_select(
    ["token_hash", "grant_id", "created_at"], sa.select(
        sa.bindparam("token_hash", type_=_REFRESH.c.token_hash.type), _STARTED.c.id,
        sa.bindparam("created_at", type_=_REFRESH.c.created_at.type)),
).add_cte(_STARTED).execution_options(preserve_rowcount=True)
REVOKE_GRANT = sa.update(_GRANT).where(
    _GRANT.c.id == sa.bindparam("grant_id"), _GRANT.c.revoked_at.is_(None)
).values(revoked_at=sa.bindparam("now"))
CLAIM_REFRESH_TOKEN = sa.update(_REFRESH).where(
    _REFRESH.c.token_hash == sa.bindparam("hash"), _REFRESH.c.used_at.is_(None)
).values(used_at=sa.bindparam("now"))
# PostgreSQL: the old refresh token marked used, if it still was not, and its successor
# inserted, in one statement committed by itself.
_CLAIMED = CLAIM_REFRESH_TOKEN.returning(_REFRESH.c.grant_id).cte("claimed")
REPLACE_REFRESH_TOKEN = sa.insert(_REFRESH).from_select(
    ["token_hash", "grant_id", "created_at"], sa.select(
        sa.bindparam("next_hash", type_=_REFRESH.c.token_hash.type), _CLAIMED.c.grant_id,
        sa.bindparam("now", type_=_REFRESH.c.created_at.type)),
).add_cte(_CLAIMED).execution_options(preserve_rowcount=True)


def _one_statement_writes() -> bool:
    """Whether the database runs the data-modifying WITH statements (PostgreSQL)."""
    return db.engine().dialect.name == "postgresql"


def execute(statement, parameters: dict):
    """A Core statement on the session's connection and transaction, past the ORM layers
    (these statements touch no mapped objects; this runs several times per token request)."""
    return db.session().connection().execute(statement, parameters)


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
    account_epoch: int = 0
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    exp: int = 0
    #: The pairwise ``sub`` for the client's sector, chosen when the code was issued.
    sub: str = ""
    #: The id of the grant an exchange of this code starts (chosen when the code is taken).
    grant_id: str = ""
    #: The access token an exchange of this code returns, stored when the code was taken.
    access_token: str = ""

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
    """The code, replaced by a marker so it can never work twice; a replay revokes what it
    issued.

    One atomic store operation (one round trip): the code's record becomes the id of the grant
    its exchange will start, remembered for as long as a replay is worth noticing, and, if
    the code was live and issued to ``client_id``, the exchange's access token is stored
    with it. That token names the grant, which exists only once ``start_grant`` has passed:
    an exchange refused after this point leaves a token that no one was given and that would
    not work (see ``find_access_token``'s callers).
    """
    grant_id, access_token = secrets.token_urlsafe(32), new_secret()
    ttl, now = current_app.config["OIDC_ACCESS_TOKEN_TTL_SECONDS"], clock.timestamp()
    record = store().redeem(
        "oidc:code:" + digest(code), {"used_by_grant": grant_id},
        current_app.config["OIDC_CODE_REPLAY_MEMORY_SECONDS"],
        Issue("oidc:at:" + digest(access_token), {
            "grant": grant_id, "client_id": client_id, "iat": now, "exp": now + ttl,
        }, ttl, requires={"client_id": client_id}, copied=("account_id", "scope")))
    if record is None:
        return None
    if "used_by_grant" in record:
        revoke_grant(record["used_by_grant"], reason="code_replay")
        return None
    if record["client_id"] != client_id or record["exp"] <= clock.timestamp():
        return None
    return AuthorizationCode(**record, grant_id=grant_id, access_token=access_token)


def account_for_exchange(account_id: int):
    """The account's ``status``, ``session_epoch`` and its person's ``academic_id`` (and
    ``released_academic_id``), or None."""
    return execute(ACCOUNT_FOR_EXCHANGE, {"id": account_id}).first()


def start_grant(code: AuthorizationCode, account_id: int, refresh_token: str | None) -> bool:
    """Start the grant (refresh-token family) of a code exchange, with its first refresh
    token, committed; False (and nothing written) if the account was disabled or its password
    changed since the code was issued, or the client was removed."""
    now = clock.now()
    params = {
        "id": code.grant_id, "client_id": code.client_id, "account_id": account_id,
        "scope": code.scope, "account_epoch": code.account_epoch, "sid": code.sid,
        "auth_time": code.auth_time, "acr": code.acr, "amr": code.amr, "created_at": now,
        "expires_at": now + timedelta(
            seconds=current_app.config["OIDC_REFRESH_ABSOLUTE_SECONDS"]),
    }
    if refresh_token and _one_statement_writes():
        params["token_hash"] = digest(refresh_token)
        started = db.write_alone(START_GRANT_WITH_REFRESH_TOKEN, params) == 1
    else:
        started = execute(START_GRANT, params).rowcount == 1
        if started and refresh_token:
            execute(INSERT_REFRESH_TOKEN, {
                "token_hash": digest(refresh_token), "grant_id": code.grant_id,
                "created_at": now})
        db.session().commit()
    return started


def live_refresh_token(token: str, client_id: str):
    """The live grant of an unused refresh token of ``client_id``, or None.

    Returns a row: the grant's columns (``id``, ``client_id``, ``account_id``, ``scope``...)
    and its person's ``academic_id`` and ``released_academic_id``. Nothing is written for a
    live token: it is replaced (``replace_refresh_token``) only once the request has passed
    every check. A used token coming back means it was copied: the whole family is revoked.
    A grant whose account changed or was disabled is revoked too.
    """
    if not isinstance(token, str) or len(token) > 200:
        return None
    found = db.read_alone(FIND_REFRESH_TOKEN, {"hash": digest(token)})
    if found is None or found.client_id != client_id:
        return None
    if found.used_at is not None:
        revoke_grant(found.id, reason="refresh_reuse")
        return None
    if found.revoked_at is not None or as_utc(found.expires_at) <= clock.now():
        return None
    if found.status != "active" or found.session_epoch != found.account_epoch:
        # As in live_account: so that re-enabling the account cannot bring the grant back.
        execute(REVOKE_GRANT, {"grant_id": found.id, "now": clock.now()})
        db.session().commit()
        return None
    return found


def replace_refresh_token(found, token: str) -> bool:
    """Mark the refresh token ``found`` used and store its successor ``token``, committed;
    False (and the family revoked) if another request used it in the meantime."""
    now = clock.now()
    if _one_statement_writes():
        replaced = db.write_alone(REPLACE_REFRESH_TOKEN, {
            "hash": found.token_hash, "next_hash": digest(token), "now": now}) == 1
    else:
        replaced = execute(CLAIM_REFRESH_TOKEN, {"hash": found.token_hash, "now": now}
                           ).rowcount == 1
        if replaced:
            execute(INSERT_REFRESH_TOKEN, {
                "token_hash": digest(token), "grant_id": found.id, "created_at": now})
            db.session().commit()
        else:
            db.session().rollback()
    if not replaced:
        revoke_grant(found.id, reason="refresh_reuse")
    return replaced


def grant_is_live(grant: OidcGrant | None) -> bool:
    return grant is not None and live_account(grant) is not None


def live_account(grant: OidcGrant) -> Account | None:
    """The grant's account if the grant is not revoked, within its absolute lifetime, and
    its account unchanged (same session epoch) and active.

    A grant found dead because of its account is revoked on the spot (the caller commits),
    so that re-enabling the account or a later password reset cannot bring it back.
    """
    if grant.revoked_at is not None or as_utc(grant.expires_at) <= clock.now():
        return None
    account = db.session().get(Account, grant.account_id)
    if account is None or account.status != "active" or account.session_epoch != grant.account_epoch:
        grant.revoked_at = clock.now()
        return None
    return account


def as_utc(moment):
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


def consent_withdrawn(account: Account, relying_party: str) -> None:
    """Consent listener: the client's grants for this account end (the caller commits)."""
    db.session().execute(sa.update(OidcGrant).where(
        OidcGrant.account_id == account.id, OidcGrant.client_id == relying_party,
        OidcGrant.revoked_at.is_(None),
    ).values(revoked_at=clock.now()))


def save_access_token(token: str, grant, scope: str) -> None:
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


def purge_grants(older_than_seconds: int) -> int:
    """Delete grants (and their refresh tokens) expired or revoked that long ago; how many."""
    cutoff = clock.now() - timedelta(seconds=older_than_seconds)
    deleted = db.session().execute(sa.delete(OidcGrant).where(sa.or_(
        OidcGrant.expires_at < cutoff, OidcGrant.revoked_at < cutoff,
    ))).rowcount
    db.session().commit()
    return deleted
