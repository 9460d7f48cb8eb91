"""Run the hostile-input corpus against the API on both backends.

Every case must get one of its expected statuses, never a 5xx, and a JSON ``{"error", "code"}``
body on a 4xx. Afterwards the service must still be healthy: ``/health`` answers, a valid plan is
accepted, and every execution the corpus got accepted can be read back and listed.


"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.conftest import make_client
from tests.hostile.corpus import CASES, NO_BODY, VALID, Case
from vidassets.settings import Settings
from vidassets.storage.keys import ApiKeyRepository

# The corpus sends several hundred requests on one key: lift the per-key rate limit for it.
RATE = 1_000_000


class CorpusRunner:
    """One app, a caller key, another tenant's key, and the executions the placeholders name."""

    def __init__(self, settings: Settings):
        made = make_client(settings, tenant="hostile", rate_limit_per_min=RATE)
        self.app = made.app
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.client.headers["Authorization"] = made.headers["Authorization"]
        # The same tenant and database behind an app with the SSRF guard on (``strict`` cases).
        guarded = make_client(settings.model_copy(update={"allow_private_urls": False}), tenant="hostile",
                              rate_limit_per_min=RATE)
        self.strict = TestClient(guarded.app, raise_server_exceptions=False)
        self.strict.headers["Authorization"] = guarded.headers["Authorization"]
        self.anon = TestClient(self.app, raise_server_exceptions=False)
        foreign_key, _ = ApiKeyRepository(settings.resolved_database_url).create("someone-else", "tests", RATE)
        self.ids = {
            "own": self._submit(VALID),
            "victim": self._submit(VALID),
            "hooked": self._submit({**VALID, "webhook": {"url": "https://hooks.example.com/x", "secret": "s"}}),
            "foreign": self._submit(VALID, headers={"Authorization": f"Bearer {foreign_key}"}),
        }
        self.accepted: list[str] = []

    def _submit(self, body: Any, headers: dict[str, Any] | None = None) -> str:
        resp = self.client.post("/api/execute", json=body, headers=headers)
        assert resp.status_code == 202, resp.text
        return resp.json()["id"]

    def _content(self, case: Case) -> bytes | None:
        if case.raw is not None:
            return case.raw
        if case.body is NO_BODY:
            return None
        text = json.dumps(case.body)  # ensure_ascii: lone surrogates travel as \ud800 escapes
        text = text.replace('"@own@"', json.dumps(self.ids["own"]))
        return text.replace('"@foreign@"', json.dumps(self.ids["foreign"])).encode()

    def send(self, case: Case) -> httpx.Response:
        path = case.path
        for name, value in self.ids.items():
            path = path.replace("{" + name + "}", value)
        content = self._content(case)
        headers: dict[str, Any] = {}
        if content is not None and case.content_type:
            headers["content-type"] = case.content_type
        headers.update(dict(case.headers))
        client = self.strict if case.strict else self.client if case.auth else self.anon
        for body in case.prelude:  # serialised like the case body: the same bytes make a replay
            first = client.post("/api/execute", content=json.dumps(body).encode(),
                                headers={**headers, "content-type": "application/json"})
            assert first.status_code == 202, (case.name, first.text)
        if case.stream and content is not None:
            data = content
            content = (data[i:i + 65536] for i in range(0, len(data), 65536))  # type: ignore[assignment]
        resp = client.request(case.method, path, content=content, headers=headers)
        if resp.status_code == 202 and case.method == "POST" and case.path == "/api/execute":
            self.accepted.append(resp.json()["id"])
        return resp

    def check(self, case: Case) -> str | None:
        """Send ``case``; return what was wrong with the answer, or None."""
        try:
            resp = self.send(case)
        except Exception as exc:  # noqa: BLE001 - a client-side crash is a finding too
            return f"{case.name}: request raised {exc.__class__.__name__}: {exc}"[:400]
        status = resp.status_code
        if status >= 500 or status not in case.expect:
            return f"{case.name}: {status} not in {sorted(case.expect)}: {resp.text[:300]}"
        if 400 <= status < 500:
            try:
                payload = resp.json()
            except ValueError:
                return f"{case.name}: {status} body is not JSON: {resp.text[:200]!r}"
            if not (isinstance(payload, dict) and isinstance(payload.get("error"), str) and payload["error"]
                    and isinstance(payload.get("code"), str) and payload["code"]):
                return f"{case.name}: {status} body lacks error/code: {resp.text[:200]}"
            if case.code and payload["code"] != case.code:
                return f"{case.name}: code {payload['code']!r}, expected {case.code!r}: {resp.text[:200]}"
        return None

    def still_healthy(self) -> list[str]:
        problems = []
        health = self.client.get("/health")
        if health.status_code != 200 or health.json() != {"status": "ok"}:
            problems.append(f"/health: {health.status_code} {health.text[:200]}")
        fresh = self.client.post("/api/execute", json=VALID)
        if fresh.status_code != 202:
            problems.append(f"valid plan after the corpus: {fresh.status_code} {fresh.text[:200]}")
        for eid in self.accepted:
            resp = self.client.get(f"/api/execute/{eid}/status")
            if resp.status_code != 200:
                problems.append(f"status of accepted {eid}: {resp.status_code} {resp.text[:200]}")
        listed: set[str] = set()
        cursor = None
        for _ in range(100):
            params: dict[str, Any] = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self.client.get("/api/executions", params=params)
            if page.status_code != 200:
                problems.append(f"list: {page.status_code} {page.text[:200]}")
                break
            listed.update(e["id"] for e in page.json()["data"])
            cursor = page.json()["nextCursor"]
            if not cursor:
                break
        missing = set(self.accepted) - listed
        if missing:
            problems.append(f"{len(missing)} accepted executions missing from the list")
        return problems


def test_the_corpus_has_at_least_150_cases() -> None:
    assert len(CASES) >= 150, len(CASES)
    assert all(c.expect and max(c.expect) < 500 for c in CASES)


def test_hostile_corpus_gets_clear_4xx_never_5xx(settings: Settings, backend: str) -> None:
    runner = CorpusRunner(settings)
    runnable = list(CASES)
    failures = [problem for case in runnable if (problem := runner.check(case))]
    failures += [f"after the corpus: {p}" for p in runner.still_healthy()]
    assert not failures, f"{len(failures)} of {len(runnable)} cases failed on {backend}:\n" + "\n".join(failures)
    assert len(runner.accepted) > 50  # the corpus's accepted cases really were accepted
