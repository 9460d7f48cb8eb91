from __future__ import annotations

import http.server
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import pytest


@dataclass
class Receiver:
    """A real HTTP receiver on loopback. ``script`` is consumed per request: an int status code,
    or "hang" to sleep past any client timeout."""

    url: str
    script: list[object] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            action = state.script.pop(0) if state.script else 200
            if action == "hang":
                time.sleep(5)
                return
            self.send_response(int(action))  # type: ignore[arg-type]
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
