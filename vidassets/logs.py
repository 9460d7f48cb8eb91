"""Structured JSON logs (one line per event) with request/execution context and secret redaction.

Context travels in contextvars, so every line logged while handling a request or running a job
carries ``request_id`` / ``execution_id`` / ``job_id`` / ``run_id`` without threading them through
every call. Redaction runs on the final text, so a secret is removed whichever path brought it.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

# An immutable default (key/value pairs): a shared mutable dict default could be changed in place for every context.
_CONTEXT: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar("vidassets_log_context", default=())

_SECRETS = [
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{6,}"), r"\1[REDACTED]"),
    (re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*['\"]?)(key|token|basic)\s+[A-Za-z0-9._~+/=:-]{6,}"), r"\1\2 [REDACTED]"),
    (re.compile(r"\bva_[0-9a-f]{16}_[A-Za-z0-9_-]{20,}"), "va_[REDACTED]"),
    (re.compile(r"\br8_[A-Za-z0-9]{10,}"), "r8_[REDACTED]"),
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]{8,}"), "whsec_[REDACTED]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-[REDACTED]"),
    (re.compile(r"(?i)((?:api[_-]?key|apikey|secret|password|token|sig|signature|x-amz-signature|x-amz-credential)"
                r"['\"]?\s*[:=]\s*['\"]?)[^\s'\"&,}]{4,}"), r"\1[REDACTED]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


@contextlib.contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    current = dict(_CONTEXT.get())
    current.update({k: v for k, v in values.items() if v is not None})
    token = _CONTEXT.set(tuple(current.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(_CONTEXT.get())
        for key in ("execution_id", "job_id", "run_id", "request_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Root handler for this process (API, CLI). Dagster run workers keep Dagster's handlers;
    their records still pass through :func:`redact` via the formatter installed here."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_vidassets", False):
            root.removeHandler(existing)
    handler._vidassets = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "botocore", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
