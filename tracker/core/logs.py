"""Logs an operator can trust: no secret in them, no line forged by what a visitor sent.

- `mask_tokens`: the bearer secrets that travel in paths and query strings — signed links (/e/…), invitations
  (/invitation/…), calendar feeds (/calendrier/….ics), password resets — are replaced by « *** ». Masked by pattern,
  not by route, so that routes added later are covered: a segment after a known prefix, any path segment that looks
  like a random token (24 or more URL-safe characters with letters and digits), and the value of query parameters
  named like a secret.
- `escape_controls`: control characters (a newline, a NUL…) are written as \\n, \\x00: one request, one line.
- `LOGGING_CONFIG`: uvicorn's configuration with both applied to the access log and every other log line
  (`python -m tracker serve`); the audit log (`tracker.audit`) as JSON lines, to AUDIT_LOG when set."""
from __future__ import annotations

import logging
import os
import re
from typing import Any

from uvicorn.logging import AccessFormatter, DefaultFormatter

MASK = "***"
_AFTER_PREFIX = re.compile(
    r"(/(?:e|invitations?|calendrier|reinitialisation|mot-de-passe(?:-oublie)?|compte/mot-de-passe|"
    r"api/v1/calendrier)/)([^/?#\s]+?)(\.ics)?(?=$|[/?#\s])",
    re.IGNORECASE,
)
_TOKEN_SEGMENT = re.compile(r"(?<=/)(?=[A-Za-z0-9_%-]*\d)(?=[A-Za-z0-9_%-]*[A-Za-z])[A-Za-z0-9_%-]{24,}(?=$|[/?#.\s])")
_SECRET_PARAM = re.compile(r"([?&](?:token|jeton|cle|key|secret|code|signature|preuve)=)[^&#\s]*", re.IGNORECASE)
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def mask_tokens(text: str) -> str:
    text = _AFTER_PREFIX.sub(lambda m: m.group(1) + MASK + (m.group(3) or ""), text)
    text = _TOKEN_SEGMENT.sub(MASK, text)
    return _SECRET_PARAM.sub(lambda m: m.group(1) + MASK, text)


def escape_controls(text: str) -> str:
    def escaped(match: re.Match) -> str:
        char = match.group(0)
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}" if ord(char) < 256 else
                                                         f"\\u{ord(char):04x}")

    return _CONTROLS.sub(escaped, text)


def safe(text: Any) -> str:
    return escape_controls(mask_tokens(str(text)))


class SafeAccessFormatter(AccessFormatter):
    """uvicorn's access line, with the path's tokens masked and its control characters escaped."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record = logging.makeLogRecord({**record.__dict__, "args": (safe(client), safe(method), safe(path),
                                                                       safe(version), status)})
        return super().formatMessage(record)


class SafeFormatter(DefaultFormatter):
    """Every other line: the message (with its arguments) masked and escaped; a traceback stays multi-line."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        record = logging.makeLogRecord({**record.__dict__, "msg": safe(record.getMessage()), "args": None})
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """The audit log: the record's `audit` dict as one JSON object per line (already safe: see core.audit)."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        return json.dumps(getattr(record, "audit", {"message": safe(record.getMessage())}), ensure_ascii=False,
                          sort_keys=True)


def logging_config() -> dict:
    """uvicorn's `log_config` for `python -m tracker serve`."""
    audit_handler: dict[str, Any] = {"formatter": "audit", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"}
    if os.environ.get("AUDIT_LOG"):
        # WatchedFileHandler: logrotate may move the file, the next line opens a new one.
        audit_handler = {"formatter": "audit", "class": "logging.handlers.WatchedFileHandler",
                         "filename": os.environ["AUDIT_LOG"], "encoding": "utf-8"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "default": {"()": "tracker.core.logs.SafeFormatter", "fmt": "%(asctime)s %(levelprefix)s %(name)s %(message)s",
                        "use_colors": False},
            "access": {"()": "tracker.core.logs.SafeAccessFormatter", "use_colors": False,
                       "fmt": '%(asctime)s %(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'},
            "audit": {"()": "tracker.core.logs.JsonFormatter"},
        },
        "handlers": {
            "default": {"formatter": "default", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
            "audit": audit_handler,
        },
        "loggers": {
            "": {"handlers": ["default"], "level": "INFO"},
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "tracker.audit": {"handlers": ["audit"], "level": "INFO", "propagate": False},
        },
    }
