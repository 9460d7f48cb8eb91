"""Rate limits (GCRA) and provider concurrency slots, in-process/file-lock and in Redis."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from vidassets.limits.rate import MemoryRateLimiter, RedisRateLimiter, redis_client
from vidassets.limits.slots import FileSlots, RedisSlots, SlotTimeout


def _limiters(redis_test_db: str):  # type: ignore[no-untyped-def]
    clock = [1000.0]
    return [("memory", MemoryRateLimiter(clock=lambda: clock[0]), clock),
            ("redis", RedisRateLimiter(redis_client(redis_test_db), prefix=f"t{time.time_ns()}:"), None)]


def test_gcra_allows_a_burst_then_paces(redis_test_db: str) -> None:
    for name, limiter, clock in _limiters(redis_test_db):
        decisions = [limiter.hit("k", 3, 60.0) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False], name
        assert [d.remaining for d in decisions[:3]] == [2, 1, 0], name
        assert 19 <= decisions[3].retry_after_s <= 20.5, name
        assert decisions[3].headers()["Retry-After"] in ("20", "21"), name
        assert limiter.hit("other", 3, 60.0).allowed, name  # buckets are per key
        if clock is not None:
            clock[0] += 20.5
            assert limiter.hit("k", 3, 60.0).allowed


def test_a_down_redis_fails_open() -> None:
    limiter = RedisRateLimiter(redis_client("redis://127.0.0.1:9/0"))
    assert limiter.hit("k", 1).allowed and limiter.hit("k", 1).allowed


def test_file_slots_limit_across_processes(tmp_path: Path) -> None:
    slots = FileSlots(tmp_path, poll_s=0.05)
    code = (f"import fcntl,os,time; fd=os.open({str(tmp_path / 'fal.0.lock')!r}, os.O_CREAT|os.O_RDWR); "
            "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(30)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(SlotTimeout):
            with slots.hold("fal", 1, cancel=threading.Event(), wait_s=0.3):
                pass
        with slots.hold("fal", 2, cancel=threading.Event(), wait_s=0.3):  # a second slot is free
            pass
        holder.kill()
        holder.wait()
        with slots.hold("fal", 1, cancel=threading.Event(), wait_s=2):  # the kernel released the dead holder's lock
            pass
    finally:
        holder.kill()


def test_redis_slots_bound_concurrency_and_expire(redis_test_db: str) -> None:
    client = redis_client(redis_test_db)
    slots = RedisSlots(client, lease_s=60, prefix=f"s{time.time_ns()}:", poll_s=0.05)
    cancel = threading.Event()
    with slots.hold("replicate", 2, cancel=cancel, wait_s=1):
        with slots.hold("replicate", 2, cancel=cancel, wait_s=1):
            with pytest.raises(SlotTimeout):
                with slots.hold("replicate", 2, cancel=cancel, wait_s=0.2):
                    pass
        with slots.hold("replicate", 2, cancel=cancel, wait_s=1):
            pass
    short = RedisSlots(client, lease_s=0.3, prefix=f"e{time.time_ns()}:", poll_s=0.05)
    short.client.zadd(short.prefix + "fal", {"crashed-worker": time.time() + 0.3})  # a lease nobody will release
    with short.hold("fal", 1, cancel=cancel, wait_s=2):  # it expires and the slot comes back
        pass
