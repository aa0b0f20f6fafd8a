"""``kleidi serve``: gunicorn in-process, refusing a multi-worker set-up that would break."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from idp import config as settings


class Server(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from idp import create_server_app

        return create_server_app()


def run(host: str, port: int, workers: int) -> int:
    config = settings.load()
    if workers > 1 and not config["REDIS_URL"]:
        print(
            "kleidi: the in-process store serves one process only; with more than one worker "
            "set KLEIDI_REDIS_URL (sessions and PINs must be shared)", file=sys.stderr,
        )
        return 2
    # preload_app: the app, with the SAML directory of every SP, is built once before the
    # workers are forked, and they share it
    Server({"bind": f"{host}:{port}", "workers": workers, "threads": 4,
            "accesslog": "-", "timeout": 30, "preload_app": True}).run()
    return 0
