"""The real API (``create_app`` under uvicorn, on a real port) for the vendor-webhook tests: the
fake vendors post their signed deliveries to it exactly as Replicate and fal would."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from pydantic import SecretStr

from api.main import create_app
from tests.providers.fakes import FakeFal, FakeReplicate
from vidassets.settings import Settings


def reserve_port(port: int = 0) -> socket.socket:
    """A bound socket for an API; ``port`` to restart one on the address an earlier one had."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def webhook_settings(settings: Settings, sock: socket.socket, replicate: FakeReplicate, fal: FakeFal,
                     **overrides: Any) -> Settings:
    """``settings`` with webhooks on: this API's public URL, the fake Replicate account's secret,
    the fake fal's JWKS; both vendors' base URLs point at the fakes."""
    values: dict[str, Any] = {
        "vendor_webhook_base_url": f"http://127.0.0.1:{sock.getsockname()[1]}",
        "replicate_webhook_secret": SecretStr(replicate.webhook_secret), "fal_webhook_jwks_url": fal.jwks_url,
        "replicate_base_url": f"{replicate.url}/v1", "fal_base_url": fal.url,
        "provider_concurrency": {}, "provider_rate_limits": {},
    }
    values.update(overrides)
    # model_copy does not validate: secrets are wrapped as the settings class would.
    for name in ("replicate_api_key", "fal_api_key"):
        if isinstance(values.get(name), str):
            values[name] = SecretStr(values[name])
    return settings.model_copy(update=values)


@contextlib.contextmanager
def api_server(settings: Settings, sock: socket.socket) -> Iterator[str]:
    """Serve the API on ``sock`` in a thread until the block ends; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 20, "the API to start")
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for(condition: Callable[[], object], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
