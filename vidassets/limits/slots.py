"""Concurrent-call limits per provider, shared by every run worker.

* Redis (production): a sorted set of leases per provider; a lease expires on its own if the
  worker holding it dies, so a crash never leaks a slot for longer than the lease.
* File locks (embedded default): N lock files per provider under the data dir; the kernel
  releases a dead process's locks at once.

Dagster pools bound how many plan runs render at once; these slots bound how many calls each
provider sees at once across all of those runs.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[2]) - tonumber(ARGV[1])) * 1000))
  return 1
end
return 0
"""


class SlotTimeout(TimeoutError):
    code = "provider_busy"


class Slots(Protocol):
    def hold(
        self, name: str, limit: int, *, cancel: threading.Event, wait_s: float
    ) -> contextlib.AbstractContextManager[None]: ...


class FileSlots:
    def __init__(self, folder: Path, poll_s: float = 0.2):
        self.folder = folder
        self.poll_s = poll_s

    @contextlib.contextmanager
    def hold(self, name: str, limit: int, *, cancel: threading.Event, wait_s: float) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + wait_s
        while True:
            for i in range(limit):
                fd = os.open(self.folder / f"{name}.{i}.lock", os.O_CREAT | os.O_RDWR, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    continue
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                    os.close(fd)
                return
            if time.monotonic() > deadline:
                raise SlotTimeout(f"all {limit} {name} slots stayed busy for {wait_s:g}s")
            if cancel.wait(self.poll_s):
                raise InterruptedError("cancelled while waiting for a provider slot")


class RedisSlots:
    def __init__(self, client, lease_s: float, prefix: str = "vidassets:slots:", poll_s: float = 0.2):  # type: ignore[no-untyped-def]
        self.client = client
        self.lease_s = lease_s
        self.prefix = prefix
        self.poll_s = poll_s
        self._acquire = client.register_script(_ACQUIRE)

    @contextlib.contextmanager
    def hold(self, name: str, limit: int, *, cancel: threading.Event, wait_s: float) -> Iterator[None]:
        token = secrets.token_hex(8)
        key = self.prefix + name
        deadline = time.monotonic() + wait_s
        while True:
            now = self.client.time()
            now_s = now[0] + now[1] / 1e6
            if int(self._acquire(keys=[key], args=[now_s, now_s + self.lease_s, limit, token])):
                break
            if time.monotonic() > deadline:
                raise SlotTimeout(f"all {limit} {name} slots stayed busy for {wait_s:g}s")
            if cancel.wait(self.poll_s):
                raise InterruptedError("cancelled while waiting for a provider slot")
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                self.client.zrem(key, token)


def make_slots(redis_url: str | None, data_dir: Path, lease_s: float) -> Slots:
    if redis_url:
        from vidassets.limits.rate import redis_client

        return RedisSlots(redis_client(redis_url), lease_s)
    return FileSlots(data_dir / "slots")
