"""Structured logs: one JSON object per line, with request/execution context and secret redaction.

Context travels in contextvars, so every line logged while handling a request or running a job
carries ``request_id`` / ``execution_id`` / ``job_id`` / ``run_id`` without threading them through
every call. Event fields (a request's status, a job's old and new status) ride on the record as
``extra={"fields": {...}}``. Every string value is redacted *before* it is serialised, so a secret
is removed whichever path brought it and the redaction can never cut into a JSON escape.

A line is always one line: JSON escapes control characters, and the characters some readers also
break lines on (NEL, U+2028/U+2029) or that reorder text on screen (bidi controls) are escaped
too, so a newline in a prompt or a user agent cannot forge a line. docs/OPERATIONS.md lists the
fields.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Collection, Iterator
from typing import Any, TextIO

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
# A word each pattern above needs (JSON escaping leaves these characters alone): text without any
# of them, by far the common case, is clean after a few substring searches of its lower-case form,
# several times cheaper than one case-insensitive regex scan (or one per pattern).
_SECRET_WORDS = ("bearer", "authorization", "va_", "r8_", "whsec_", "sk-", "apikey", "api_key", "api-key", "secret",
                 "password", "token", "sig", "credential")


def _may_hold_secret(text: str) -> bool:
    low = text.lower()  # the words of _SECRET_WORDS, spelled out: a loop over them costs as much again
    return ("sig" in low or "token" in low or "secret" in low or "bearer" in low or "authorization" in low
            or "api_key" in low or "apikey" in low or "api-key" in low or "password" in low or "credential" in low
            or "va_" in low or "r8_" in low or "whsec_" in low or "sk-" in low)

# Characters that end a line for some reader or reorder what a terminal shows. JSON already
# escapes C0 controls; these it leaves as they are.
# Lone surrogates (undecodable bytes) are escaped as well: they cannot be written as UTF-8.
_UNSAFE = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_LINE_UNSAFE = re.compile(f"[{_UNSAFE}]")
_TEXT_UNSAFE = re.compile(f"[\x00-\x1f{_UNSAFE}]")
_BASE_KEYS = ("ts", "level", "logger", "msg")


def redact(text: str) -> str:
    if not _may_hold_secret(text):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters of a hostile string (a user agent, a path), marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def one_line(text: str) -> str:
    """``text`` with every line-breaking or control character written as a ``\\uXXXX`` escape."""
    return _TEXT_UNSAFE.sub(_escape, text)


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    return value


_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text (replaced as one)


def _timestamp(created: float) -> str:
    """``2026-12-01T12:00:00.123Z``; the part up to the second is formatted once per second."""
    global _second
    second = int(created)
    cached = _second
    if cached[0] != second:
        cached = _second = (second, dt.datetime.fromtimestamp(second, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"))
    return f"{cached[1]}.{int((created - second) * 1000):03d}Z"


def _redacted_str(value: object) -> str:
    """How a value JSON cannot hold is written: its text, redacted."""
    return redact(str(value))


@contextlib.contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    current = dict(_CONTEXT.get())
    current.update({k: v for k, v in values.items() if v is not None})
    token = _CONTEXT.set(tuple(current.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """Context, the ids set on the record, then its event ``fields`` (later ones win)."""
    entry: dict[str, Any] = dict(_CONTEXT.get())
    for key in ("execution_id", "job_id", "run_id", "request_id"):
        value = getattr(record, key, None)
        if value:
            entry[key] = value
    fields = getattr(record, "fields", None)
    if isinstance(fields, dict):
        entry.update(fields)
    for key in _BASE_KEYS:  # fields never overwrite the envelope
        entry.pop(key, None)
    return entry


# Built once: json.dumps() with any option builds a new encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str, separators=(",", ":"))
_REDACTING_ENCODER = json.JSONEncoder(ensure_ascii=False, default=_redacted_str, separators=(",", ":"))


class JsonFormatter(logging.Formatter):
    """``{"ts","level","logger","msg", <context and event fields>, "exc"?}`` on one line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update(record_fields(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        line = _ENCODER.encode(entry)
        if _may_hold_secret(line):  # redact the values, then serialise again: never the JSON text itself
            line = _REDACTING_ENCODER.encode(_redacted(entry))
        if line.isascii() and "\x7f" not in line:  # the common case, without a regex scan
            return line
        return _LINE_UNSAFE.sub(_escape, line)


class RedactingFormatter(logging.Formatter):
    """Human-readable lines (``log_format=text``): the message, then ``key=value`` event fields;
    control characters are escaped so that this format, too, is one line per record."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        head = self.formatMessage(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            head += "".join(f" {k}={v}" for k, v in fields.items() if v is not None)
        stack = self.formatException(record.exc_info) if record.exc_info else record.exc_text or ""
        # A traceback keeps its lines, indented, so that it cannot pass for a record of its own.
        return one_line(redact(head)) + "".join(f"\n  {one_line(s)}" for s in redact(stack).splitlines())


_LIVE_HANDLERS: weakref.WeakSet[LineBufferHandler] = weakref.WeakSet()


class LineBufferHandler(logging.Handler):
    """Writes the hot path's lines to stderr in batches: a request's line costs no write of its own.

    A record is formatted at once (its context lives in contextvars). Records of the ``batched``
    loggers (the request line) below ``flush_level`` are kept, and a daemon thread writes what is
    kept every ``interval_s``; any other record is written at once, with everything kept before
    it, in order. So a server's shutdown lines ("Shutting down", logged when SIGTERM arrives) also
    write the last requests' lines: uvicorn ends by re-raising the signal, and no exit hook runs.
    A process killed outright loses at most ``interval_s`` of request lines. The stream is looked
    up at each write, so a replaced ``sys.stderr`` is honoured.
    """

    def __init__(self, interval_s: float = 0.25, *, batched: Collection[str] = ("vidassets.request",),
                 max_bytes: int = 256 * 1024, flush_level: int = logging.WARNING, stream: TextIO | None = None):
        super().__init__()
        self.interval_s = interval_s
        self.batched = frozenset(batched)
        self.max_bytes = max_bytes
        self.flush_level = flush_level
        self._stream = stream
        self._lines: list[str] = []
        self._size = 0
        self._stop = threading.Event()
        self._flusher: threading.Thread | None = None
        _LIVE_HANDLERS.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
            return
        self._lines.append(line)
        self._size += len(line) + 1
        if record.name not in self.batched or record.levelno >= self.flush_level or self._size >= self.max_bytes:
            self.flush()
        elif self._flusher is None:
            self._flusher = threading.Thread(target=self._flush_periodically, name="log-flusher", daemon=True)
            self._flusher.start()

    def flush(self) -> None:
        self.acquire()
        try:
            if not self._lines:
                return
            text = "\n".join(self._lines) + "\n"
            self._lines.clear()
            self._size = 0
            stream = self._stream or sys.stderr
            try:
                stream.write(text)
                stream.flush()
            except (OSError, ValueError):  # closed or broken stream: the lines are lost, the caller is not
                pass
        finally:
            self.release()

    def close(self) -> None:
        self._stop.set()
        self.flush()
        _LIVE_HANDLERS.discard(self)
        super().close()

    def _flush_periodically(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.flush()

    def _after_fork(self) -> None:
        """In a forked child: the parent writes what it had buffered; the child starts afresh."""
        self._lines, self._size, self._flusher = [], 0, None
        self._stop = threading.Event()


def _reset_after_fork() -> None:
    for handler in list(_LIVE_HANDLERS):
        handler._after_fork()


os.register_at_fork(after_in_child=_reset_after_fork)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Root handler for this process (API, CLI).

    uvicorn's own access log is switched off: the request line (``vidassets.request``) replaces
    it, and uvicorn's writes the raw query string, which holds artefact URL signatures; uvicorn's
    other lines go through this handler, so that every line is in the configured format. Records
    skip the process name and id (``logging.logProcesses``, the logging HOWTO's optimisation):
    nothing here prints them, and reading the pid is a system call per record.
    """
    _install(logging.getLogger(), level, json_lines)
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):  # uvicorn's start-up and error lines in the same format
        server_log = logging.getLogger(name)
        server_log.handlers.clear()
        server_log.propagate = True
    for noisy in ("httpx", "httpcore", "botocore", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def configure_worker_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """This format for the ``vidassets`` loggers only, in a process whose logging belongs to
    someone else (a Dagster run worker): Dagster's own lines and handlers are left as they are,
    and these records do not also reach a root handler (no line twice)."""
    target = logging.getLogger("vidassets")
    _install(target, level, json_lines)
    target.propagate = False


def _install(target: logging.Logger, level: str, json_lines: bool) -> None:
    """Put a fresh buffer handler on ``target``, replacing (and flushing) one installed before."""
    handler = LineBufferHandler()
    handler.setFormatter(JsonFormatter() if json_lines else RedactingFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for existing in list(target.handlers):
        if getattr(existing, "_vidassets", False):
            target.removeHandler(existing)
            existing.close()
    handler._vidassets = True  # type: ignore[attr-defined]
    target.addHandler(handler)
    target.setLevel(level.upper())
