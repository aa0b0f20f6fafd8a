"""The database: one SQLAlchemy engine per app, one session per app context."""

from __future__ import annotations

import time
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask, current_app, g
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from idp.config import ConfigurationError

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table; constraint names are stable across databases."""

    metadata = sa.MetaData(naming_convention=NAMING)


def database_url(config: dict) -> str:
    """The configured URL, or an SQLite file under instance/ for the embedded default."""
    if config.get("DATABASE_URL"):
        return config["DATABASE_URL"]
    instance = Path(config["INSTANCE_PATH"])
    instance.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{instance / 'kleidi.sqlite3'}"


def make_engine(url: str, **options) -> sa.Engine:
    """An engine; SQLite gets foreign keys on and a busy timeout for concurrent writers."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                                  **options)

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # SQLite's recommendation for WAL: commits no longer wait for the disk (the WAL is
            # synced at checkpoints); the database cannot be corrupted, and only a power loss
            # can undo the last transactions. Production runs on PostgreSQL.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # No pool_pre_ping (a round trip before every request's first statement): connections
    # idle for a while are pinged instead, and none is kept past POOL_RECYCLE_SECONDS.
    engine = sa.create_engine(url, pool_size=10, max_overflow=10,
                              pool_recycle=POOL_RECYCLE_SECONDS, **options)
    _ping_when_idle(engine)
    return engine


#: A pooled connection unused for this long is pinged before use: connections die while idle
#: (server or firewall idle timeouts, a database restart overnight), not between two requests.
IDLE_PING_SECONDS = 10
#: Older connections are replaced at checkout, before a server-side lifetime limit ends them.
POOL_RECYCLE_SECONDS = 1800


def _ping_when_idle(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", time.monotonic()) < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                # The pool discards this connection and checks out another (or a new one).
                raise sa.exc.DisconnectionError() from error
            raise


def init_app(app: Flask) -> None:
    """Create the app's engine and close the session at the end of every app context."""
    url = database_url(app.config)
    options = {}
    if not url.startswith("sqlite"):
        # A database host that does not answer at all ends a request in 503 (idp.outages),
        # not in a browser waiting for the kernel's TCP timeout.
        options["connect_args"] = {"connect_timeout": app.config["DATABASE_CONNECT_TIMEOUT_SECONDS"]}
    try:
        engine = make_engine(url, **options)
    except sa.exc.ArgumentError as error:
        raise ConfigurationError(
            "KLEIDI_DATABASE_URL must be an SQLAlchemy URL such as "
            f"postgresql+psycopg://user@host/kleidi ({error})") from None
    app.extensions["kleidi.db"] = sessionmaker(engine, expire_on_commit=False)
    # Connections of their own, each statement committed by itself (see ``write_alone``):
    # switching a session connection to autocommit and back costs more than the statement.
    app.extensions["kleidi.db.autocommit"] = make_engine(url, isolation_level="AUTOCOMMIT",
                                                         **options)
    app.teardown_appcontext(_close_session)


def engine() -> sa.Engine:
    return current_app.extensions["kleidi.db"].kw["bind"]


def dispose() -> None:
    """Close every pooled connection of the app (both engines)."""
    engine().dispose()
    current_app.extensions["kleidi.db.autocommit"].dispose()


def session() -> Session:
    """The session of the current app context (created on first use)."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["kleidi.db"]()
    return g.db_session


def read(statement, **params) -> list:
    """The rows of a prepared (module-level) SELECT, for paths that run on every answer to a
    relying party: run by the driver itself on the session's connection (in its transaction),
    without SQLAlchemy's execution layers, which cost three times the driver's own work on
    such small reads (see ``_Prepared``). Pending ORM changes are flushed first, as a query
    through the session would. Rows are named tuples, typed as SQLAlchemy would give them.
    Statements built per call must not come here: each is compiled and kept once."""
    current = session()
    if current.new or current.dirty or current.deleted:
        current.flush()
    connection = current.connection()
    prepared = _prepared(statement, connection.dialect)
    if prepared is None or _observed(connection):
        return connection.execute(statement, params).all()
    cursor = None
    values = prepared.parameters(params)
    try:
        cursor = connection.connection.driver_connection.cursor()
        cursor.execute(prepared.sql, values)
        found = cursor.fetchall()
    except BaseException as error:  # noqa: BLE001 (handed to SQLAlchemy, which re-raises)
        # SQLAlchemy's own handling, as for any statement: the error wrapped as its own, a
        # broken connection invalidated with every older one in the pool, handle_error events
        _raise_as_sqlalchemy(connection, error, prepared.sql, values, cursor)
    finally:
        if cursor is not None:
            cursor.close()
    return [prepared.row(row) for row in found]


def _raise_as_sqlalchemy(connection: sa.Connection, error, sql: str, values, cursor):
    connection._handle_dbapi_exception(error, sql, values, cursor, None)  # noqa: SLF001


def _observed(connection: sa.Connection) -> bool:
    """Whether something listens to the statements run (instrumentation, a test counting
    queries): then they all go through SQLAlchemy, which tells it. (Engine logging, ``echo``,
    does not show the reads that do not.)"""
    return bool(connection.dispatch.before_cursor_execute
                or connection.dispatch.after_cursor_execute)


class _Prepared:
    """A SELECT compiled once for one dialect: its SQL, how its parameters are passed, and its
    columns' result processors (SQLite hands dates, booleans and JSON back as text or numbers;
    psycopg converts them itself, and SQLAlchemy gives those none)."""

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql, self._compiled = compiled.string, compiled
        self._order = compiled.positiontup if compiled.positional else None
        self._binds = compiled._bind_processors  # noqa: SLF001 (SQLAlchemy's own, e.g. JSON)
        columns = list(statement.selected_columns)
        self.names = [column.key for column in columns]
        self._make = namedtuple("Row", self.names)._make
        self._processors = [
            (index, process) for index, column in enumerate(columns)
            if (process := column.type.dialect_impl(dialect).result_processor(dialect, None))]

    def parameters(self, params: dict):
        values = self._compiled.construct_params(params)
        for name, process in self._binds.items():
            if values.get(name) is not None:
                values[name] = process(values[name])
        return values if self._order is None else [values[name] for name in self._order]

    def row(self, raw) -> tuple:
        if self._processors:
            raw = list(raw)
            for index, process in self._processors:
                raw[index] = process(raw[index])
        return self._make(raw)


#: (statement, dialect) -> its _Prepared, or None where SQLAlchemy must run it.
_PREPARED: dict = {}


def _prepared(statement, dialect) -> _Prepared | None:
    key = (statement, dialect)
    if key not in _PREPARED:
        _PREPARED[key] = _prepare(statement, dialect)
    return _PREPARED[key]


def _prepare(statement, dialect) -> _Prepared | None:
    """The statement prepared for the driver if it is a plain SELECT of named columns whose
    rows the driver's values and the columns' processors give exactly as SQLAlchemy would;
    None for anything else (SQLAlchemy then runs it as usual)."""
    try:
        prepared = _Prepared(statement, dialect)
    except (TypeError, ValueError, AttributeError):  # e.g. a processor that needs the driver's
        return None  # column type (PostgreSQL's numerics), or no columns (text())
    compiled = prepared._compiled  # noqa: SLF001
    names = prepared.names
    plain = (
        # parameters that SQLAlchemy expands or renders at execution (IN lists), or renames
        not (compiled.literal_execute_params or compiled.post_compile_params
             or compiled.escaped_bind_names)
        # rows named as SQLAlchemy names them (it labels unnamed and repeated columns itself)
        and names and all(name and name.isidentifier() and not name.startswith("_")
                          for name in names)
        and len(set(names)) == len(names)
        and [column[0] for column in compiled._result_columns] == names)  # noqa: SLF001
    return prepared if plain else None


def write_alone(statement, params: dict) -> int:
    """Execute one statement in a transaction of its own, committed at once; its rowcount.

    For hot paths whose whole write is a single statement (atomic by itself): on PostgreSQL
    that is one round trip, where the session's transaction takes three (BEGIN, the statement,
    COMMIT). Outside the session: it sees nothing the session has not committed.
    """
    autocommit = current_app.extensions["kleidi.db.autocommit"]
    if autocommit.dialect.name == "postgresql":
        return _on_driver(autocommit, statement, params, lambda cursor: cursor.rowcount)
    with autocommit.connect() as connection:
        return connection.execute(statement, params).rowcount


def read_alone(statement, params: dict) -> sa.Row | None:
    """The first row of a one-statement read outside the session (see ``write_alone``): one
    round trip on PostgreSQL, where the session's transaction adds BEGIN. Its columns are
    read by name (``row.column``)."""
    autocommit = current_app.extensions["kleidi.db.autocommit"]
    if autocommit.dialect.name == "postgresql":
        return _on_driver(autocommit, statement, params, lambda cursor: cursor.fetchone())
    with autocommit.connect() as connection:
        return connection.execute(statement, params).first()


#: Hot statements compiled once for the driver (see ``_on_driver``).
_COMPILED: dict = {}


def _on_driver(engine: sa.Engine, statement, params: dict, result):
    """``result(cursor)`` of the statement run by psycopg itself on a pooled connection.

    A token exchange or refresh runs one or two such statements; SQLAlchemy's execution
    layers (connection wrapper, parameter and result processing) cost some 80 µs of CPU per
    statement over psycopg's own 20–40, measured. The statement is compiled by SQLAlchemy once
    (with its bind processors, e.g. JSON); rows come back as named tuples with psycopg's own
    types (timezone-aware datetimes, parsed JSON), as SQLAlchemy gives them on PostgreSQL.
    """
    import psycopg
    from psycopg.rows import namedtuple_row

    compiled = _COMPILED.get(statement)
    if compiled is None:
        compiled = _COMPILED[statement] = statement.compile(dialect=engine.dialect)
    values = compiled.construct_params(params)
    for name, process in compiled._bind_processors.items():  # noqa: SLF001 (SQLAlchemy's own)
        if name in values and values[name] is not None:
            values[name] = process(values[name])
    pooled = engine.raw_connection()
    try:
        with pooled.driver_connection.cursor(row_factory=namedtuple_row) as cursor:
            return result(cursor.execute(compiled.string, values))
    except psycopg.OperationalError:
        pooled.invalidate()  # a broken connection must not go back to the pool
        raise
    finally:
        pooled.close()


def after_commit(callback) -> None:
    """Call ``callback()`` once the session's current transaction commits; never if it rolls
    back (log lines and counters that must not tell of a change that did not happen)."""
    session().info.setdefault(_AFTER_COMMIT, []).append(callback)


_AFTER_COMMIT = "kleidi.after_commit"


@sa.event.listens_for(Session, "after_commit")
def _run_after_commit(committed: Session) -> None:
    for callback in committed.info.pop(_AFTER_COMMIT, []):
        callback()


@sa.event.listens_for(Session, "after_rollback")
def _forget_after_commit(rolled_back: Session) -> None:
    rolled_back.info.pop(_AFTER_COMMIT, None)


@contextmanager
def transaction():
    """Commit what the block does, or roll all of it back."""
    current = session()
    try:
        yield current
        current.commit()
    except BaseException:
        current.rollback()
        raise


def _close_session(_exc) -> None:
    current = g.pop("db_session", None)
    if current is not None:
        current.close()  # rolls back whatever was not committed
