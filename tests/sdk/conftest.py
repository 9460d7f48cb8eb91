"""A fake vidassets API on loopback whose submit endpoint is the server's real normaliser.

The SDK's own suite (sdk/python/tests) covers polling, retries and errors against a stdlib fake;
here the point is that what the SDK sends is what the server accepts, and that the server's
validation errors reach the caller intact.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.providers.fakes import FakeServer, Reply, Seen
from vidassets.plan import PlanCreate, PlanValidationError, normalize_request

API_KEY = "va_test_key_123"


class FakeApi(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.accepted: list[object] = []

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/execute"

    def route(self, seen: Seen) -> Reply:
        if seen.method != "POST" or seen.path != "/api/execute":
            return Reply(404, {"error": "not found", "code": "not_found"})
        try:
            submission = normalize_request(PlanCreate.model_validate(seen.body))
        except PlanValidationError as exc:
            return Reply(422, {"error": str(exc), "code": "invalid_plan", "details": [i.as_dict() for i in exc.issues]})
        except ValueError as exc:  # pydantic's ValidationError
            return Reply(422, {"error": "invalid request body", "code": "invalid_request", "details": str(exc)})
        self.accepted.append(submission)
        execution_id = f"ex_{len(self.accepted)}"
        return Reply(202, {"id": execution_id, "executionId": execution_id, "status": "pending",
                           "statusUrl": f"{self.api_url}/{execution_id}/status"})


@pytest.fixture
def api() -> Iterator[FakeApi]:
    server = FakeApi()
    yield server
    server.stop()
