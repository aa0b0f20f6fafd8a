"""Logs on standard error, with secrets kept out: JSON lines in a server (and for a command
given ``--json``), readable lines for a person at a terminal (the other ``kleidi`` commands,
which create the app with ``LOG_FORMAT`` "text")."""

from __future__ import annotations

import json
import logging
import sys

from flask import g, has_request_context

#: Keys whose values are never written, wherever they appear in a log record's extras.
REDACTED = ("password", "pin", "secret", "token", "code_verifier", "otp", "authorization")
_STANDARD = set(vars(logging.makeLogRecord({})))


def _clean(value):
    if isinstance(value, dict):
        return {
            key: "[redacted]" if any(word in str(key).lower() for word in REDACTED)
            else _clean(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_clean(item) for item in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and g.get("request_id"):
            entry["request_id"] = g.request_id
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        entry.update(_clean(extras))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """One readable line: level, message, then the (cleaned) extras as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        extras = _clean({k: v for k, v in vars(record).items() if k not in _STANDARD})
        details = " ".join(f"{key}={value}" for key, value in extras.items())
        line = f"{record.levelname.lower()}: {record.getMessage()}" + (f" ({details})" if details
                                                                     else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure(level: str, *, text: bool = False) -> None:
    """Send every log record to standard error, as JSON or as text (once per process)."""
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter | TextFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(TextFormatter() if text else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    # xmlschema (under pysaml2) reports each schema it loads at INFO: noise, in any format
    logging.getLogger("xmlschema").setLevel(max(logging.WARNING, root.level))
