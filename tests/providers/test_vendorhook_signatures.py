"""Delivery signatures, as each vendor documents them, against deliveries the fakes sign
(``fake_hooks.py``, written from the vendors' documents): every valid delivery passes; a change
to any signed part, a stale or future timestamp, another key or a missing header is refused."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.providers.fake_hooks import FalSigner, replicate_secret, standard_headers
from vidassets.vendorhooks.signatures import FalKeys, Refused, parse_jwks, verify_fal, verify_standard

TOLERANCE = 300.0
bodies = st.binary(min_size=0, max_size=512)
ids = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
SECRET = replicate_secret()
SIGNER = FalSigner()


def keys_of(signer: FalSigner) -> FalKeys:
    return FalKeys("http://unused.invalid/jwks", fetch=lambda _: signer.jwks())


@settings(max_examples=60, deadline=None)
@given(body=bodies, message_id=ids, skew=st.integers(-290, 290))
def test_a_replicate_delivery_verifies_and_any_change_is_refused(body: bytes, message_id: str, skew: int) -> None:
    now = time.time()
    headers = standard_headers(SECRET, body, message_id=message_id, timestamp=int(now) + skew)
    assert verify_standard(headers, body, SECRET, now=now, tolerance_s=TOLERANCE).delivery_id == message_id
    for changed in (body + b" ", {**headers, "webhook-id": message_id + "x"},
                    {**headers, "webhook-timestamp": str(int(now) + skew + 1)}):
        sent_body, sent_headers = (changed, headers) if isinstance(changed, bytes) else (body, changed)
        with pytest.raises(Refused) as refused:
            verify_standard(sent_headers, sent_body, SECRET, now=now, tolerance_s=TOLERANCE)
        assert refused.value.status == 401
    with pytest.raises(Refused):
        verify_standard(headers, body, replicate_secret(), now=now, tolerance_s=TOLERANCE)


@settings(max_examples=60, deadline=None)
@given(body=bodies, request_id=ids, skew=st.integers(-290, 290))
def test_a_fal_delivery_verifies_and_any_change_is_refused(body: bytes, request_id: str, skew: int) -> None:
    now = time.time()
    headers = SIGNER.headers(request_id, body, timestamp=int(now) + skew)
    signed = verify_fal(headers, body, keys_of(SIGNER), now=now, tolerance_s=TOLERANCE)
    assert signed.request_id == request_id
    for sent_body, sent_headers in ((body + b"x", headers), (body, {**headers, "x-fal-webhook-user-id": "someone"}),
                                    (body, {**headers, "x-fal-webhook-request-id": request_id + "x"})):
        with pytest.raises(Refused) as refused:
            verify_fal(sent_headers, sent_body, keys_of(SIGNER), now=now, tolerance_s=TOLERANCE)
        assert refused.value.code == "webhook_bad_signature"
    with pytest.raises(Refused):
        verify_fal(headers, body, keys_of(FalSigner()), now=now, tolerance_s=TOLERANCE)


@pytest.mark.parametrize("skew", [-301, 301, -86400])
def test_stale_and_future_deliveries_are_refused(skew: int) -> None:
    now = time.time()
    body = b'{"id": "p1"}'
    with pytest.raises(Refused) as refused:
        verify_standard(standard_headers(SECRET, body, timestamp=int(now) + skew), body, SECRET, now=now,
                        tolerance_s=TOLERANCE)
    assert refused.value.code == "webhook_stale"
    with pytest.raises(Refused) as refused:
        verify_fal(SIGNER.headers("r1", body, timestamp=int(now) + skew), body, keys_of(SIGNER), now=now,
                   tolerance_s=TOLERANCE)
    assert refused.value.code == "webhook_stale"


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_an_unsigned_replicate_delivery_is_refused(missing: str) -> None:
    body = b"{}"
    headers = {k: v for k, v in standard_headers(SECRET, body).items() if k != missing}
    with pytest.raises(Refused) as refused:
        verify_standard(headers, body, SECRET, now=time.time(), tolerance_s=TOLERANCE)
    assert (refused.value.status, refused.value.code) == (401, "webhook_unsigned")


def test_signature_lists_and_versions_follow_standard_webhooks() -> None:
    """Several space-separated signatures (a rotated secret): one match is enough; only ``v1``."""
    body, now = b'{"a": 1}', time.time()
    good = standard_headers(SECRET, body, message_id="msg_1", timestamp=int(now))
    other = standard_headers(replicate_secret(), body, message_id="msg_1", timestamp=int(now))
    listed = {**good, "webhook-signature": f"{other['webhook-signature']} {good['webhook-signature']}"}
    assert verify_standard(listed, body, SECRET, now=now, tolerance_s=TOLERANCE).delivery_id == "msg_1"
    v2 = {**good, "webhook-signature": good["webhook-signature"].replace("v1,", "v2,")}
    with pytest.raises(Refused):
        verify_standard(v2, body, SECRET, now=now, tolerance_s=TOLERANCE)


def test_jwks_keys_padded_or_not_and_foreign_keys_skipped() -> None:
    jwks = SIGNER.jwks()
    padded = {"keys": [{"kty": "RSA", "n": "abc", "e": "AQAB"}, {**jwks["keys"][0], "x": jwks["keys"][0]["x"] + "="}]}
    assert len(parse_jwks(padded)) == 1
    with pytest.raises(ValueError):
        parse_jwks({"keys": [{"kty": "RSA", "n": "abc"}]})


def test_fal_keys_are_cached_and_refetched_when_none_matches_after_a_while() -> None:
    """A rotated key: a signature matching no cached key refetches the JWKS (at most once a minute)."""
    now = [0.0]
    old, new = FalSigner(), FalSigner()
    served = [old]
    fetches: list[str] = []

    def fetch(url: str) -> object:
        fetches.append(url)
        return served[0].jwks()

    keys = FalKeys("http://jwks.invalid/", fetch=fetch, clock=lambda: now[0])
    body = b"{}"
    verify_fal(old.headers("r", body), body, keys, now=time.time(), tolerance_s=TOLERANCE)
    served[0] = new
    with pytest.raises(Refused):  # too soon to refetch: the new key is not known yet
        verify_fal(new.headers("r", body), body, keys, now=time.time(), tolerance_s=TOLERANCE)
    now[0] = 120.0
    verify_fal(new.headers("r", body), body, keys, now=time.time(), tolerance_s=TOLERANCE)
    assert len(fetches) == 2
