"""docs/OPERATIONS.md against the code: every error code, the limits' numbers, the webhook payload
and headers, the settings it names. A code, limit or field added to the code without the page fails here."""

from __future__ import annotations

import re
from types import SimpleNamespace

from tests.docs.doc_tables import OPERATIONS, first_column, section
from tests.docs.error_codes import COMPOSED, ROOT, error_codes
from vidassets.logs import LineBufferHandler
from vidassets.plan import PlanCreate, normalize_request
from vidassets.settings import Settings
from vidassets.storage.repo import new_execution_id
from vidassets.webhooks import deliver
from vidassets.webhooks.events import WEBHOOK_URL_TTL_S, build_payload
from vidassets.webhooks.signing import sign_headers


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_error_code_in_the_code_is_documented() -> None:
    in_code = set(error_codes()) | set(COMPOSED)
    documented = first_column("Error codes")
    missing = sorted(in_code - documented)
    assert not missing, f"error codes missing from {OPERATIONS.name} (python -m tests.docs.error_codes): {missing}"


def test_every_documented_error_code_exists() -> None:
    stale = sorted(first_column("Error codes") - set(error_codes()) - set(COMPOSED))
    assert not stale, f"{OPERATIONS.name} documents codes the code no longer has: {stale}"
    for code, (path, evidence) in COMPOSED.items():  # the run-time codes still have their source
        assert evidence in (ROOT / path).read_text(), (code, path)
    assert 'f"webhook_{exc.reason}"' in (ROOT / "vidassets/vendorhooks/receiver.py").read_text()


def test_the_scan_finds_codes_in_each_place_they_are_put() -> None:
    """The scanner itself: a code in each syntactic place the code base uses is found."""
    import ast

    from tests.docs.error_codes import codes_in

    source = '''
class E(Exception):
    code = "as_attribute"
def f(message, code: str = "as_default", *, other: str = "x"): ...
raise ProviderError("m", code="as_keyword")
ApiError(409, "m", "as_api_error")
JobFailure("as_failure" if x else "as_failure_too", "m")
error, code = "message", "as_tuple"
body = {"error": "m", "code": "as_body"}
NAMED_CODE = "as_constant"
'''
    found = {code for code, _ in codes_in(ast.parse(source))}
    assert found == {"as_attribute", "as_default", "as_keyword", "as_api_error", "as_failure", "as_failure_too",
                     "as_tuple", "as_body", "as_constant"}


def test_the_limits_are_the_settings_defaults() -> None:
    # The declared defaults, not this machine's environment.
    s = SimpleNamespace(**{name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()})
    limits = section("Limits")
    assert f"| requests per minute per API key | {s.rate_limit_per_min} |" in limits
    assert f"one request every 60/N seconds ({s.rate_limit_per_min}/min: one per {60_000 // s.rate_limit_per_min} ms)" \
        in _flat(limits)
    assert f"trusted for {s.key_cache_s:g} s" in _flat(limits)
    assert set(s.provider_rate_limits) == set(s.provider_concurrency)
    for name, per_min in s.provider_rate_limits.items():
        assert f"| `{name}` | {per_min} | {s.provider_concurrency[name]} |" in limits, name
    assert f"`VIDASSETS_PROVIDER_TIMEOUT_S`, {s.provider_timeout_s:g} s" in limits
    assert f"1 MiB ({s.max_body_bytes} bytes)" in limits and s.max_body_bytes == 1 << 20
    assert f"| jobs per plan | {s.max_jobs} |" in limits
    assert f"| characters in a text parameter | {s.max_text_chars} |" in limits
    assert f"| seconds of one generated or imported clip | {s.max_duration_s:g} |" in limits
    assert f"2 GiB ({s.fetch_max_bytes} bytes)" in limits and s.fetch_max_bytes == 2 << 30
    assert f"| seconds to fetch one input | {s.fetch_timeout_s:g} |" in limits
    assert f"`VIDASSETS_VENDOR_WEBHOOK_TOLERANCE_S`, {s.vendor_webhook_tolerance_s:g} s" in section("Error codes")
    for name in re.findall(r"`(VIDASSETS_[A-Z_]+)`", OPERATIONS.read_text()):
        assert name.removeprefix("VIDASSETS_").lower() in Settings.model_fields, name


def _human(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def test_the_webhook_schedule_and_timeouts_are_the_code_s() -> None:
    text = _flat(section("Delivery"))
    schedule = deliver.RETRY_SCHEDULE_S
    spelled = ", ".join(_human(d) for d in schedule[:-1]) + f" and {_human(schedule[-1])}"
    assert spelled in text
    assert f"(±{deliver.JITTER:.0%} jitter" in text.replace(" %", "%")
    assert f"{len(schedule) + 1} attempts over about {round(sum(schedule) / 3600)} hours" in text
    assert f"within {deliver.ATTEMPT_TIMEOUT_S:g} seconds" in text
    assert f"valid for {WEBHOOK_URL_TTL_S // 86400} days" in section("Payload")
    assert f"every {LineBufferHandler().interval_s:g} s" in _flat(section("Log lines"))


def test_the_documented_headers_are_the_ones_sent() -> None:
    documented = first_column("Headers and signatures")
    signed = sign_headers(b"{}", "whsec_c2VjcmV0", "msg_1", 1_700_000_000)
    unsigned = sign_headers(b"{}", None, "msg_1", 1_700_000_000)
    assert set(signed) == documented
    assert set(signed) - set(unsigned) == {"X-Webhook-Signature", "webhook-signature"}


def _payloads(services) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """Two real payloads: a completed variant (output, video, base) and a failed execution."""
    plan = normalize_request(PlanCreate.model_validate({"jobs": [
        {"id": "a", "type": "generate", "params": {"prompt": "a"}},
        {"id": "m", "type": "reframe", "params": {"aspectRatio": "9:16"}, "dependsOn": ["a"]},
    ]})).plan
    repo, out = services.repo, []
    for status, base in (("completed", "base-1"), ("failed", None)):
        eid = new_execution_id()
        repo.create(execution_id=eid, tenant_id="t", plan=plan, base_execution_id=base,
                    webhook_url="https://hooks.example.com/x")
        repo.start_run(eid, "run-1")
        for job in ("a", "m"):
            repo.job_started(eid, job, "run-1")
            if status == "completed" or job == "a":
                repo.job_completed(eid, job, {"key": f"executions/{eid}/{job}.mp4", "duration": 1.0,
                                              "aspectRatio": "9:16"})
            else:
                repo.job_failed(eid, job, status="failed", error="boom", error_code="ffmpeg_failed")
        result = {"jobId": "m", "key": f"executions/{eid}/m.mp4"} if status == "completed" else None
        repo.finish(eid, status, error=None if status == "completed" else "job 'm': boom",
                    error_code=None if status == "completed" else "ffmpeg_failed", result=result)
        row = repo.get(eid)
        out.append(build_payload(row, services, f"execution.{status}"))
    return out


def test_the_documented_payload_fields_are_the_ones_sent(services) -> None:  # type: ignore[no-untyped-def]
    completed, failed = _payloads(services)
    assert {"video", "baseExecutionId", "rootUrl"} <= set(completed) and completed["rootUrl"]
    assert {"error", "errorCode"} <= set(failed) and "video" not in failed
    assert first_column("Payload") == set(completed) | set(failed)
    assert set(completed["video"]) == {"url", "duration", "aspectRatio", "status"}
    assert set(completed["outputs"]["m"]) == {"url", "operation"}
    example = section("Payload")
    for key in set(completed) | set(failed):
        assert f'"{key}":' in example, key


def test_readme_and_api_reference_link_the_page() -> None:
    assert "docs/OPERATIONS.md" in (ROOT / "README.md").read_text()
    assert "(OPERATIONS.md)" in (ROOT / "docs" / "API.md").read_text()
