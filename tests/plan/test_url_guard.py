"""Submit-time SSRF checks on every URL field: literal private addresses are refused when the
guard is on, cloud metadata endpoints always; host names are left to the connect-time guard."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vidassets.net.guard import AddressPolicy, literal_address
from vidassets.plan import PlanCreate, PlanValidationError, Submission, normalize_request

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STRICT = AddressPolicy(allow_private=False)
DEV = AddressPolicy(allow_private=True)
GEN = {"id": "g", "type": "generate", "params": {"prompt": "p"}}

# URL field -> (plan body carrying the URL, the issue's field)
FIELDS: dict[str, Callable[[str], tuple[dict[str, Any], str]]] = {
    "generate.url": lambda u: ({"jobs": [{"id": "x", "type": "generate", "params": {"url": u}}]}, "jobs[0].params.url"),
    "generate.startImage": lambda u: ({"jobs": [{"id": "x", "type": "generate", "params": {"prompt": "p", "startImage": u}}]},
                                      "jobs[0].params.startImage"),
    "generate.endImage": lambda u: ({"jobs": [{"id": "x", "type": "generate", "params": {"prompt": "p", "endImage": u}}]},
                                    "jobs[0].params.endImage"),
    "generate.image (SDK non-unified)": lambda u: (
        {"jobs": [{"id": "x", "type": "generate", "params": {"provider": "replicate", "modelId": "m", "unified": False,
                                                            "image": u}}]}, "jobs[0].params.image"),
    "reframe.url": lambda u: ({"jobs": [{"id": "x", "type": "reframe", "params": {"aspectRatio": "1:1", "url": u}}]},
                              "jobs[0].params.url"),
    "lipSync.audioUrl": lambda u: ({"jobs": [GEN, {"id": "x", "type": "lipSync", "params": {"audioUrl": u},
                                                   "dependsOn": ["g"]}]}, "jobs[1].params.audioUrl"),
    "addSubtitles.subtitlesUrl": lambda u: ({"jobs": [GEN, {"id": "x", "type": "addSubtitles",
                                                            "params": {"subtitlesUrl": u}, "dependsOn": ["g"]}]},
                                            "jobs[1].params.subtitlesUrl"),
    "webhook.url": lambda u: ({"jobs": [GEN], "webhook": {"url": u}}, "webhook.url"),
    "webhookUrl": lambda u: ({"jobs": [GEN], "webhookUrl": u}, "webhookUrl"),
    "options.webhookUrl": lambda u: ({"executionPlan": {"jobs": [GEN]}, "options": {"webhookUrl": u}},
                                     "options.webhookUrl"),
}
PRIVATE_V4 = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10",
              "0.0.0.0/8"]
PRIVATE_V6 = ["::1/128", "fc00::/7", "fe80::/10"]
METADATA = ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/x",
            "http://METADATA.google.internal./x", "http://[::ffff:169.254.169.254]/", "http://2852039166/",
            "http://0xa9fea9fe/", "http://100.100.100.200/latest/"]

METADATA_IPS = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("100.100.100.200")}

private_v4 = st.sampled_from(PRIVATE_V4).flatmap(lambda net: st.ip_addresses(v=4, network=net))
private_v6 = st.sampled_from(PRIVATE_V6).flatmap(lambda net: st.ip_addresses(v=6, network=net))
public_v4 = st.ip_addresses(v=4).filter(
    lambda ip: ip.is_global and not ip.is_multicast and not ip.is_reserved and ip not in METADATA_IPS)
fields = st.sampled_from(sorted(FIELDS))


def host(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"[{ip}]" if ip.version == 6 else str(ip)


def outcome(body: dict[str, Any], policy: AddressPolicy | None) -> Submission | list[dict[str, Any]]:
    """FastAPI parses the body first (no policy: metadata refused there); then the normaliser."""
    try:
        parsed = PlanCreate.model_validate(body)
    except ValueError as exc:  # pydantic's ValidationError: a 422 validation_error in the API
        return [{"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]} for err in exc.errors()]  # type: ignore[attr-defined]
    try:
        return normalize_request(parsed, url_policy=policy)
    except PlanValidationError as exc:
        return [i.as_dict() for i in exc.issues]


def assert_refused(result: Submission | list[dict[str, Any]], field: str, words: str) -> None:
    assert isinstance(result, list), result
    assert any(i["field"] == field and words in i["message"] for i in result), (field, result)


@SETTINGS
@given(fields, private_v4 | private_v6, st.sampled_from(["http", "https"]), st.integers(1, 65535) | st.none())
def test_any_literal_private_address_is_refused_with_the_guard_on(field: str, ip: Any, scheme: str, port: int | None) -> None:
    url = f"{scheme}://{host(ip)}{f':{port}' if port else ''}/media/x.mp4"
    body, where = FIELDS[field](url)
    assert_refused(outcome(body, STRICT), where, "refused")
    if ip not in METADATA_IPS:
        assert isinstance(outcome(body, DEV), Submission)  # the development mode lets them through to connect time


@SETTINGS
@given(private_v4)
def test_numeric_spellings_of_private_ipv4_are_refused_too(ip: ipaddress.IPv4Address) -> None:
    """What the C resolver (and so an HTTP client) reads as an address is an address: the integer,
    hex and octal forms of 10.0.0.1 are 10.0.0.1."""
    number = int(ip)
    octets = str(ip).split(".")
    for spelling in (str(number), hex(number), ".".join(f"0{int(o):o}" for o in octets), f"{octets[0]}.{number & 0xFFFFFF}"):
        assert literal_address(spelling) == ip, spelling
        body, where = FIELDS["generate.url"](f"http://{spelling}/x.mp4")
        assert_refused(outcome(body, STRICT), where, "non-public")


@SETTINGS
@given(fields, public_v4)
def test_public_addresses_pass_with_the_guard_on(field: str, ip: ipaddress.IPv4Address) -> None:
    body, _ = FIELDS[field](f"https://{ip}/media/x.mp4")
    assert isinstance(outcome(body, STRICT), Submission)


@pytest.mark.parametrize("url", METADATA)
@pytest.mark.parametrize("field", sorted(FIELDS))
@pytest.mark.parametrize("policy", [STRICT, DEV, None, AddressPolicy(allow_private=True, allowlist=("169.254.0.0/16",))],
                         ids=["strict", "dev", "no-policy", "allowlisted"])
def test_metadata_endpoints_are_refused_under_every_policy(url: str, field: str, policy: AddressPolicy | None) -> None:
    body, where = FIELDS[field](url)
    result = outcome(body, policy)
    assert isinstance(result, list) and any(i["field"] == where and "metadata" in i["message"] for i in result), result


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_host_names_are_left_to_the_connect_time_guard(field: str) -> None:
    for url in ("http://localhost/x.mp4", "http://internal.example/x.mp4", "http://10.0.0.1.nip.io/x.mp4"):
        assert isinstance(outcome(FIELDS[field](url)[0], STRICT), Submission), url


def test_the_allowlist_admits_a_private_literal() -> None:
    body, _ = FIELDS["generate.url"]("http://10.1.2.3/x.mp4")
    assert isinstance(outcome(body, AddressPolicy(allow_private=False, allowlist=("10.0.0.0/8",))), Submission)
    assert isinstance(outcome(body, STRICT), list)
