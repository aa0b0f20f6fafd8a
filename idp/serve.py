"""``kleidi serve``: the production HTTP server (granian, WSGI), refusing a multi-worker set-up
that would break.

Granian parses HTTP and keeps connections alive in Rust; each worker process runs the app in
one Python thread (``THREADS``): measured with the previous server, one thread per process
spent less CPU per request than several sharing one interpreter lock, so a host runs about one
worker per core, and more workers rather than more threads. ``bench/oidc_tokens.py`` measures
this server against that one (gunicorn's sync worker) on one core.
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import quote

from idp import config as settings

#: Python threads per worker running requests (granian's "blocking threads").
THREADS = 1
#: Connections one worker accepts at a time (granian's "backpressure"); beyond that they wait
#: in the kernel's queue. It counts connections, not requests: keep it above the keep-alive
#: connections a reverse proxy holds open to each worker.
BACKPRESSURE = 128
#: Seconds a client may take to send a request's headers (slow-header clients are cut off).
HEADER_TIMEOUT_SECONDS = 30
#: Seconds a stopping worker is given to finish its requests before it is killed.
STOP_TIMEOUT_SECONDS = 30
#: The access log line: client, method, path, status, milliseconds. The path only: query
#: strings carry ID tokens (``id_token_hint``), codes, ``state`` and SAML messages.
ACCESS_LOG_FORMAT = '%(addr)s - [%(time)s] "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1f'


class AccessLine(logging.Formatter):
    """Granian's access log line with the path percent-encoded again: WSGI hands the path
    decoded, and a ``%0A`` or ``%22`` in it must not forge a second line or end the quotes."""

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record.args, dict) and "path" in record.args:
            path = record.args["path"].encode("latin-1", "replace")  # WSGI: bytes as latin-1
            record.args = {**record.args, "path": quote(path, safe="/:@!$&'()*+,;=~")}
        return super().format(record)


#: Granian's logging set-up with the access lines through :class:`AccessLine`.
LOGGING = {
    "formatters": {"access": {"()": "idp.serve.AccessLine", "fmt": "%(message)s"}},
}


def server(host: str, port: int, workers: int, threads: int = THREADS):
    """The granian server of ``kleidi serve`` (not started)."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings

    return Granian(
        "idp:create_server_app", factory=True, interface=Interfaces.WSGI, address=host,
        port=port, workers=workers, blocking_threads=threads, backpressure=BACKPRESSURE,
        http=HTTPModes.http1, websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_TIMEOUT_SECONDS * 1000),
        log_access=True, log_access_format=ACCESS_LOG_FORMAT, log_dictconfig=_logging(),
        respawn_failed_workers=True, workers_kill_timeout=STOP_TIMEOUT_SECONDS,
    )


def _logging() -> dict:
    from granian.log import LOGGING_CONFIG

    return {**LOGGING_CONFIG, "formatters": {**LOGGING_CONFIG["formatters"],
                                             **LOGGING["formatters"]}}


def run(host: str, port: int, workers: int, threads: int = THREADS) -> int:
    config = settings.load()
    if workers > 1 and not config["REDIS_URL"]:
        print(
            "kleidi: the in-process store serves one process only; with more than one worker "
            "set KLEIDI_REDIS_URL (sessions and PINs must be shared)", file=sys.stderr,
        )
        return 2
    app = preloaded()
    if app is None:  # workers not forked: each builds its own (idp:create_server_app)
        server(host, port, workers, threads).serve()
    else:
        server(host, port, workers, threads).serve(target_loader=lambda: app, wrap_loader=False)
    return 0


def preloaded():
    """The app, built in this process before granian forks its workers from it, or None where
    workers are not forked (another multiprocessing start method).

    What the app holds once built (the modules, the SAML directory of every SP, compiled
    templates, keys) is then in memory pages that every worker shares with this process
    until one writes to them, rather than a copy per worker; a worker started again after a
    crash starts from it at once. Nothing that cannot cross a fork is left open: the database
    connections used while building are closed here (each worker opens its own), Redis
    clients reconnect in a new process by themselves, and the app's threads (the SAML
    directory's watcher, the development outbox) start in the worker that needs them.
    """
    import multiprocessing

    if multiprocessing.get_start_method() != "fork":
        return None
    from idp import create_server_app, db

    app = create_server_app()
    with app.app_context():
        db.dispose()
    return app
