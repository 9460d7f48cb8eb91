"""The poller with webhooks on: it looks at the ledger (``wake``) every ``ledger_check_s``, polls
at once when a delivery landed, and otherwise polls ever more slowly up to the fallback cap."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from tests.providers.fakes import FakeClock, policy
from vidassets.providers.http import PollState, VendorSession


def session(clock: FakeClock, **overrides: float) -> VendorSession:
    return VendorSession("acme", base_url="http://127.0.0.1:9", auth={}, secret="", cancel=threading.Event(),
                         policy=policy(timeout_s=10_000.0, **overrides), timing=clock.timing)


@given(lands_at=st.floats(min_value=0.0, max_value=500.0), check=st.sampled_from([0.25, 1.0, 2.0]))
def test_a_delivery_is_noticed_within_one_check_and_polled_at_once(lands_at: float, check: float) -> None:
    clock = FakeClock()
    start = clock.now
    polls: list[float] = []
    delivered = {"seen": False}

    def state(_: None) -> PollState:
        polls.append(clock.now - start)
        return PollState(done=polls[-1] >= lands_at)  # the vendor is done once the delivery was sent

    def wake() -> bool:  # the ledger row shows a new delivery once it landed
        if clock.now - start >= lands_at and not delivered["seen"]:
            delivered["seen"] = True
            return True
        return False

    final = session(clock, ledger_check_s=check, webhook_poll_max_interval_s=60.0).poll(None, state, wake=wake)
    assert final.done and lands_at <= polls[-1] <= lands_at + check + 1e-6  # not the next poll, 60 s on
    assert all(sleep <= check + 1e-9 for sleep in clock.sleeps)


def test_without_deliveries_polling_slows_to_the_fallback_cap() -> None:
    clock = FakeClock()
    polls: list[float] = []

    def state(_: None) -> PollState:
        polls.append(clock.now)
        return PollState(done=len(polls) >= 14)

    session(clock, poll_interval_s=1.0, poll_factor=1.5, webhook_poll_max_interval_s=60.0,
            ledger_check_s=5.0).poll(None, state, wake=lambda: False)
    gaps = [b - a for a, b in zip(polls, polls[1:], strict=False)]
    assert gaps[0] == 1.0 and max(gaps) == 60.0 and gaps == sorted(gaps)


def test_without_webhooks_the_usual_cap_holds() -> None:
    clock = FakeClock()
    polls: list[float] = []

    def state(_: None) -> PollState:
        polls.append(clock.now)
        return PollState(done=len(polls) >= 12)

    session(clock, poll_interval_s=1.0, poll_max_interval_s=5.0).poll(None, state)
    assert max(b - a for a, b in zip(polls, polls[1:], strict=False)) == 5.0
