"""The JSON line format and its handler: any text stays one valid line with its value intact
(redacted), redaction cannot forge a field, and lines are written in batches."""

from __future__ import annotations

import io
import json
import logging
import time

from hypothesis import given
from hypothesis import strategies as st

from vidassets.logs import JsonFormatter, LineBufferHandler, RedactingFormatter, log_context, redact

BREAKERS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


def _record(msg: str, level: int = logging.INFO, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("vidassets.test", level, __file__, 1, "%s", (msg,), None)
    record.__dict__.update(extra)
    return record


@given(msg=st.text(), field=st.text(), context=st.text())
def test_any_text_is_one_line_of_json_that_keeps_its_value(msg: str, field: str, context: str) -> None:
    with log_context(request_id=context):
        line = JsonFormatter().format(_record(msg, fields={"prompt": field, "nested": {"list": [field]}}))
    assert len(line.splitlines()) == 1 and not set(line) & set(BREAKERS)
    entry = json.loads(line)
    assert entry["msg"] == redact(msg) and entry["prompt"] == redact(field) and entry["request_id"] == redact(context)
    assert entry["nested"] == {"list": [redact(field)]}
    assert entry["level"] == "info" and entry["logger"] == "vidassets.test"
    text = RedactingFormatter("%(levelname)s %(message)s").format(_record(msg, fields={"prompt": field}))
    assert len(text.splitlines()) == 1 and not set(text) & set(BREAKERS)


def test_redaction_cannot_cut_into_an_escape_and_forge_fields() -> None:
    """Redacting the serialised text once let ``token=abcd\\"`` eat the backslash of an escaped
    quote, so a message could end its string early and add fields of its own."""
    forged = 'token=abcd", "level": "critical", "x": "'
    entry = json.loads(JsonFormatter().format(_record(forged)))
    assert entry["level"] == "info" and "x" not in entry
    assert entry["msg"] == 'token=[REDACTED]", "level": "critical", "x": "'
    secret_in_json = json.dumps({"api_key": "plainsecretvalue"})  # escaped in the line, plain in the value
    assert "plainsecretvalue" not in JsonFormatter().format(_record(secret_in_json))


def test_fields_never_overwrite_the_envelope() -> None:
    entry = json.loads(JsonFormatter().format(_record("hello", fields={"level": "critical", "msg": "x", "k": 1})))
    assert entry["level"] == "info" and entry["msg"] == "hello" and entry["k"] == 1


def test_a_failure_carries_its_traceback() -> None:
    try:
        raise RuntimeError("line one\nline two")
    except RuntimeError:
        import sys

        record = logging.LogRecord("vidassets.test", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exc"].startswith("Traceback (most recent call last)") and "RuntimeError: line one\nline two" in entry["exc"]
    text = RedactingFormatter("%(levelname)s %(message)s").format(record).splitlines()
    assert text[0] == "ERROR failed" and all(line.startswith("  ") for line in text[1:])  # indented: no fake records


class CountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


def test_request_lines_are_written_in_batches_and_others_at_once() -> None:
    stream = CountingStream()
    handler = LineBufferHandler(interval_s=0.05, batched=("vidassets.test",), stream=stream)
    handler.setFormatter(JsonFormatter())
    try:
        for i in range(100):
            handler.handle(_record(f"request {i}"))
        assert stream.writes == 0  # no write per line
        handler.handle(_record("failed", logging.ERROR))
        assert stream.writes == 1 and len(stream.getvalue().splitlines()) == 101  # the error and all before it
        handler.handle(_record("later"))
        deadline = time.monotonic() + 5
        while stream.writes < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert stream.writes == 2 and json.loads(stream.getvalue().splitlines()[-1])["msg"] == "later"  # the flusher
        handler.handle(_record("kept"))
        other = _record("Shutting down")
        other.name = "uvicorn.error"
        handler.handle(other)  # another logger's line: written at once, after what was kept
        assert stream.writes == 3 and [json.loads(x)["msg"] for x in stream.getvalue().splitlines()[-2:]] == [
            "kept", "Shutting down"]
        handler.handle(_record("at exit"))
    finally:
        handler.close()
    assert json.loads(stream.getvalue().splitlines()[-1])["msg"] == "at exit"  # close writes what is left


def test_a_worker_process_can_take_the_format_for_its_own_loggers_only() -> None:
    """configure_worker_logging (for processes whose logging is Dagster's): vidassets lines become
    JSON at INFO, once; other loggers are left alone. In a child process: it changes global state."""
    import subprocess
    import sys

    code = ("import logging\n"
            "from vidassets.logs import configure_worker_logging\n"
            "logging.getLogger().addHandler(logging.StreamHandler())\n"  # someone else's root handler
            "configure_worker_logging('INFO')\n"
            "logging.getLogger('vidassets.status').info('job e/a: pending -> processing', "
            "extra={'fields': {'event': 'job.status', 'new_status': 'processing'}})\n"
            "logging.getLogger('dagster.x').warning('a dagster line')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    lines = done.stderr.splitlines()
    assert lines.count("a dagster line") == 1
    ours = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(ours) == 1 and ours[0]["event"] == "job.status" and ours[0]["new_status"] == "processing"
