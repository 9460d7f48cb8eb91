"""The SSRF guard: checked at connect time, for literal IPs, DNS names and redirects."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from vidassets.net.fetch import FetchError, fetch_to_file
from vidassets.net.guard import AddressPolicy, BlockedAddressError

STRICT = AddressPolicy(allow_private=False)


@pytest.fixture
def redirector() -> Iterator[tuple[str, list[str]]]:
    """A loopback server: /file answers bytes, /to?u=URL redirects to URL."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            if self.path.startswith("/to?u="):
                self.send_response(302)
                self.send_header("Location", self.path.split("=", 1)[1])
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("content-length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def _fetch(url: str, tmp: Path, policy: AddressPolicy, max_bytes: int = 1000) -> Path:
    return fetch_to_file(url, tmp / "out.bin", policy=policy, max_bytes=max_bytes, timeout_s=5).path


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "192.168.0.1", "172.16.5.5", "169.254.169.254",
                                     "::1", "fd00::1", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1"])
def test_non_public_addresses_are_refused(address: str) -> None:
    with pytest.raises(BlockedAddressError):
        STRICT.check_ip("h", address)


def test_public_addresses_pass_and_metadata_is_refused_even_in_dev_mode() -> None:
    STRICT.check_ip("h", "93.184.216.34")
    with pytest.raises(BlockedAddressError):
        AddressPolicy(allow_private=True).check_ip("h", "169.254.169.254")
    AddressPolicy(allow_private=True).check_ip("h", "127.0.0.1")


def test_strict_policy_refuses_loopback_by_ip_and_by_name(redirector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, hits = redirector
    port = base.rsplit(":", 1)[1]
    for url in (f"{base}/file", f"http://localhost:{port}/file"):
        with pytest.raises(FetchError) as info:
            _fetch(url, tmp_path, STRICT)
        assert info.value.code == "url_blocked"
    assert hits == []  # refused before any byte was sent


def test_redirects_are_checked_again(redirector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, hits = redirector
    port = base.rsplit(":", 1)[1]
    allow_first_hop = AddressPolicy(allow_private=False, allowlist=("127.0.0.1/32",))
    assert _fetch(f"{base}/file", tmp_path, allow_first_hop).read_bytes() == b"hello"
    with pytest.raises(FetchError) as info:  # the redirect target resolves to 127.0.0.2: not allow-listed
        _fetch(f"{base}/to?u=http://127.0.0.2:{port}/file", tmp_path, allow_first_hop)
    assert info.value.code == "url_blocked"
    with pytest.raises(FetchError) as info:
        _fetch(f"{base}/to?u=file:///etc/passwd", tmp_path, allow_first_hop)
    assert info.value.code == "url_blocked"


def test_size_limits(redirector, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    base, _ = redirector
    with pytest.raises(FetchError) as info:
        _fetch(f"{base}/file", tmp_path, AddressPolicy(allow_private=True), max_bytes=3)
    assert info.value.code == "too_large"
    assert not (tmp_path / "out.bin").exists() and not list(tmp_path.glob(".*part"))


def test_webhook_to_a_private_address_is_refused_under_strict_policy(settings, receiver) -> None:  # type: ignore[no-untyped-def]
    """A host *name* that resolves privately passes the submit-time check (it does not resolve
    names) and is refused when the deliverer connects; literal addresses are refused at submit
    (tests/api/test_sdk_contract.py and the hostile corpus)."""
    from tests.helpers import submit
    from vidassets.services import build_services
    from vidassets.webhooks.deliver import WebhookDeliverer
    from vidassets.webhooks.events import enqueue_event

    strict = build_services(settings.model_copy(update={"allow_private_urls": False}))
    eid = submit(strict, {"jobs": [{"id": "a", "type": "generate", "params": {"prompt": "p"}}],
                          "webhook": {"url": receiver.url.replace("127.0.0.1", "localhost")}})
    strict.repo.finish(eid, "completed", result={"jobId": "a"})
    enqueue_event(strict, eid)
    (result,) = WebhookDeliverer(strict).deliver_due()
    assert result.outcome == "retry" and "non-public" in (result.error or "")
    assert receiver.received == []
