"""A corpus of malformed and malicious requests, each with the answer it must get.

Every case names one request (method, path, JSON body or raw bytes, headers) and the set of
statuses that are a correct answer. None of them may ever be a 5xx. (The nine product bugs the
corpus found when it was written — NUL bytes and lone surrogates reaching the database, NaN
stored as null, chunked oversize bodies, huge re-render windows, non-ASCII signatures — are fixed;
their cases now run with the rest.)

Placeholders, filled in by the runner:

* in paths, ``{own}`` (a pending execution of the caller), ``{victim}`` (one the corpus cancels,
  then retries), ``{hooked}`` (a pending one with a webhook URL) and ``{foreign}`` (another
  tenant's execution);
* in bodies, the strings ``"@own@"`` and ``"@foreign@"`` (replaced in the serialised JSON).

Nothing here sends traffic anywhere: the API validates URLs statically at submit time, and the
Dagster launch after a 202 goes to a closed loopback port. Cases marked ``strict`` are sent to an
app with the SSRF guard on (``allow_private_urls=False``); the others to the embedded default.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

NO_BODY: Any = object()
MAX_BODY = 1024 * 1024

S_202 = frozenset({202})
S_401 = frozenset({401})
S_404 = frozenset({404})
S_409 = frozenset({409})
S_413 = frozenset({413})
S_422 = frozenset({422})
S_4XX_PARSE = frozenset({400, 422})  # unparseable bodies: FastAPI says 400 or 422, either is clear
S_202_OR_4XX = frozenset({202, 400, 422})  # odd but decodable input: accepting it or refusing it are both fine


@dataclass(frozen=True)
class Case:
    name: str
    expect: frozenset[int]
    method: str = "POST"
    path: str = "/api/execute"
    body: Any = NO_BODY  # JSON value, serialised by the runner (ensure_ascii, so lone surrogates survive)
    raw: bytes | None = None  # sent as is instead of ``body``
    content_type: str | None = "application/json"
    headers: tuple[tuple[str, str | bytes], ...] = ()
    code: str | None = None  # expected ``code`` of the error body, where it matters
    auth: bool = True  # False: no Authorization header at all
    stream: bool = False  # send ``raw`` as a chunked stream with no Content-Length
    prelude: tuple[Any, ...] = ()  # bodies POSTed to /api/execute first, with the same headers (expect 202)
    strict: bool = False  # send to the app whose SSRF guard is on (allow_private_urls=False)


# -- plan builders -----------------------------------------------------------------------------------------------

def gen(job_id: str = "g", **params: Any) -> dict[str, Any]:
    return {"id": job_id, "type": "generate", "params": {"prompt": "a red ball", "duration": 1, **params}}


def job(job_id: str, op: str, params: dict[str, Any] | None = None, deps: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"id": job_id, "type": op, "params": params or {}}
    if deps is not None:
        out["dependsOn"] = deps
    return out


def plan(*jobs: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"jobs": list(jobs), **top}


def documented(*jobs: dict[str, Any], **options: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"executionPlan": {"jobs": [
        {"id": j["id"], "operation": j["type"], "params": j["params"], "dependsOn": j.get("dependsOn", [])}
        for j in jobs]}}
    if options:
        body["options"] = options
    return body


VALID = plan(gen())
SRC = "https://media.example.com/clip.mp4"
AUDIO = "https://media.example.com/voice.m4a"


def subs(**params: Any) -> dict[str, Any]:
    return plan(gen(), job("s", "addSubtitles", params, ["g"]))


def reframe(**params: Any) -> dict[str, Any]:
    return plan(gen(), job("r", "reframe", {"aspectRatio": "9:16", **params}, ["g"]))


def lipsync(**params: Any) -> dict[str, Any]:
    return plan(gen(), job("l", "lipSync", {"audioUrl": AUDIO, **params}, ["g"]))


def merge(**params: Any) -> dict[str, Any]:
    return plan(gen("a"), gen("b"), job("m", "merge", params, ["a", "b"]))


IMAGE_MODEL = {"provider": "replicate", "model": "google/nano-banana", "prompt": "a cat"}


def layer(layers: list[dict[str, Any]], **params: Any) -> dict[str, Any]:
    """A layer job (our format) over a served clip unless ``layers`` says otherwise."""
    return job("L", "layer", {"layers": layers, **params})


def raw_json(text: str) -> bytes:
    return text.encode()


def nested(depth: int, leaf: str = "1") -> str:
    return '{"a":' * depth + leaf + "}" * depth


# -- URL fields: where a URL can go, and how a plan carries it ------------------------------------------------

def _url_plans() -> dict[str, tuple[Any, str]]:
    """field name -> (function url -> body, error code a bad static URL gets)"""
    return {
        "generate.url": (lambda u: plan({"id": "g", "type": "generate", "params": {"url": u}}), "invalid_plan"),
        "generate.startImage": (lambda u: plan(gen(startImage=u)), "invalid_plan"),
        "generate.endImage": (lambda u: plan(gen(endImage=u)), "invalid_plan"),
        "reframe.url": (lambda u: plan(job("r", "reframe", {"aspectRatio": "1:1", "url": u})), "invalid_plan"),
        "lipSync.url": (lambda u: plan(job("l", "lipSync", {"url": u, "audioUrl": AUDIO})), "invalid_plan"),
        "lipSync.audioUrl": (lambda u: lipsync(audioUrl=u), "invalid_plan"),
        "addSubtitles.url": (lambda u: plan(job("s", "addSubtitles", {"url": u, "text": "hi"})), "invalid_plan"),
        "addSubtitles.subtitlesUrl": (lambda u: subs(subtitlesUrl=u), "invalid_plan"),
        "layer.clips.url": (lambda u: plan(layer([{"clips": [{"url": u}]}])), "invalid_plan"),
        "merge.audio.url": (lambda u: plan(gen("a"), job("m", "merge", {"audio": [{"url": u}]}, ["a"])), "invalid_plan"),
        "generateImage.image": (lambda u: plan(job("i", "generateImage", {**IMAGE_MODEL, "image": [u]}),
                                                providerApiKeys={"replicate": "r8_x"}), "invalid_plan"),
        "removeBackground.url": (lambda u: plan(job("b", "removeBackground", {"provider": "replicate", "url": u}),
                                                providerApiKeys={"replicate": "r8_x"}), "invalid_plan"),
        "webhook.url": (lambda u: plan(gen(), webhook={"url": u, "secret": "s"}), "validation_error"),
        "webhookUrl": (lambda u: plan(gen(), webhookUrl=u), "validation_error"),
        "options.webhookUrl": (lambda u: documented(gen(), webhookUrl=u), "validation_error"),
    }


BAD_URLS: dict[str, str] = {
    "file": "file:///etc/passwd",
    "gopher": "gopher://127.0.0.1:6379/_FLUSHALL",
    "ftp": "ftp://media.example.com/clip.mp4",
    "data": "data:video/mp4;base64,AAAAIGZ0eXBpc29t",
    "javascript": "javascript:alert(1)",
    "credentials": "http://user:pass@media.example.com/clip.mp4",
    "too-long": "https://media.example.com/" + "a" * 4100 + ".mp4",
    "space": "https://media.example.com/my clip.mp4",
    "control": "https://media.example.com/clip.mp4\r\nX-Injected: 1",
    "no-host": "http:///clip.mp4",
}

# Private targets with an allowed scheme: fine at submit on the embedded default
# (allow_private_urls=True; the SSRF guard refuses them at fetch time, test_media_inputs.py),
# refused at submit, naming the field, when the guard is on (``strict`` cases).
PRIVATE_URLS: dict[str, str] = {
    "ipv6-loopback": "http://[::1]/clip.mp4",
    "decimal-loopback": "http://2130706433/clip.mp4",
    "rfc1918": "http://10.1.2.3/clip.mp4",
    "link-local": "http://169.254.10.20/clip.mp4",
    "ipv6-link-local": "http://[fe80::1]/clip.mp4",
}
# Every spelling of a private address the guard must recognise without DNS (strict, one field).
PRIVATE_SPELLINGS: dict[str, str] = {
    "127.0.0.1": "http://127.0.0.1/x.mp4", "127.1": "http://127.1/x.mp4", "0x7f000001": "http://0x7f000001/x.mp4",
    "octal loopback": "http://0177.0.0.1/x.mp4", "0.0.0.0": "http://0.0.0.0/x.mp4", "192.168.1.1": "http://192.168.1.1/x.mp4",
    "172.16.0.1 with port": "http://172.16.0.1:8080/x.mp4", "100.64.0.1 (CGNAT)": "http://100.64.0.1/x.mp4",
    "[fc00::1]": "http://[fc00::1]/x.mp4", "[::ffff:10.0.0.1]": "http://[::ffff:10.0.0.1]/x.mp4",
    "[fe80::1%25eth0]": "http://[fe80::1%25eth0]/x.mp4", "trailing dot": "http://10.0.0.1./x.mp4",
    "upper-case scheme": "HTTP://10.0.0.1/x.mp4",
}
# Cloud metadata endpoints: refused at submit under every policy, the embedded default included.
METADATA_URLS: dict[str, str] = {
    "aws": "http://169.254.169.254/latest/meta-data/",
    "aws-ipv6": "http://[fd00:ec2::254]/latest/meta-data/",
    "gcp-name": "http://metadata.google.internal/computeMetadata/v1/",
    "gcp-name-dot": "http://Metadata.Google.Internal./computeMetadata/v1/",
    "mapped": "http://[::ffff:169.254.169.254]/latest/",
    "decimal": "http://2852039166/latest/",
    "alibaba": "http://100.100.100.200/latest/meta-data/",
}

INJECTIONS: dict[str, str] = {
    "drawtext": "'; drawtext=text=pwned:[out]",
    "pts-expansion": "%{pts} %{localtime} %{eif:1/0:d}",
    "ass-override": "{\\b1}bold{\\b0} {\\pos(0,0)}",
    "filter-labels": "[a][b]concat=n=2:v=1:a=0[out]; movie=/etc/passwd",
    "escapes": "\\:\\'\\\\ ; , [ ] = :",
    "shell": "$(rm -rf /) `id` && reboot",
    "sql": "'; DROP TABLE executions; --",
    "srt-structure": "1\n00:00:00,000 --> 00:00:09,000\nfake cue\n\n2",
}

UNICODE: dict[str, str] = {
    "rtl-override": "abc\u202edcba\u202c",
    "zero-width": "a\u200bb\u200dc\ufeffd",
    "emoji": "🎬🔥👩‍👩‍👧‍👦🏳️‍🌈",
    "combining": "Z\u0351\u0300\u0301\u0302a\u0303\u0304l\u0305g\u0306o",
    "cjk-arabic": "日本語のテキスト و النص العربي",
    "astral": "\U0001d54f\U0001f600\U00010348",
}


def _corpus() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # -- raw bodies: syntax, encodings, sizes ----------------------------------------------------------------
    add(Case("empty body", S_422, raw=b"", code="validation_error"))
    add(Case("body is null", S_422, raw=b"null", code="validation_error"))
    add(Case("body is a number", S_422, raw=b"123"))
    add(Case("body is a string", S_422, raw=b'"jobs"'))
    add(Case("body is an array", S_422, raw=b"[]"))
    add(Case("body is true", S_422, raw=b"true"))
    add(Case("truncated JSON", S_4XX_PARSE, raw=b'{"jobs": ['))
    add(Case("trailing garbage", S_4XX_PARSE, raw=json.dumps(VALID).encode() + b" garbage"))
    add(Case("single-quoted JSON", S_4XX_PARSE, raw=b"{'jobs': []}"))
    add(Case("JSON with comments", S_4XX_PARSE, raw=b'{"jobs": [] /* hi */}'))
    add(Case("array nested 10k deep", S_4XX_PARSE, raw=b"[" * 10_000 + b"]" * 10_000))
    add(Case("object nested 10k deep", S_4XX_PARSE, raw=raw_json(nested(10_000))))
    add(Case("params nested 10k deep", S_4XX_PARSE,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","cameraMotion":'
                          + nested(10_000) + "}}]}")))
    add(Case("params nested 200 deep", S_202_OR_4XX,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","cameraMotion":'
                          + nested(200) + "}}]}")))
    add(Case("invalid UTF-8 lead bytes", S_4XX_PARSE, raw=b'\xff\xfe{"jobs": []}'))
    add(Case("invalid UTF-8 inside a string", S_4XX_PARSE,
             raw=b'{"jobs":[{"id":"g","type":"generate","params":{"prompt":"\xc3\x28"}}]}'))
    add(Case("overlong UTF-8 slash", S_4XX_PARSE,
             raw=b'{"jobs":[{"id":"g","type":"generate","params":{"prompt":"\xc0\xaf"}}]}'))
    add(Case("UTF-8 BOM before a valid plan", S_202_OR_4XX, raw=b"\xef\xbb\xbf" + json.dumps(VALID).encode()))
    add(Case("UTF-16 encoded plan", S_202_OR_4XX, raw=json.dumps(VALID).encode("utf-16")))
    add(Case("NaN duration", S_422,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","duration":NaN}}]}'),
             code="invalid_plan"))
    add(Case("Infinity duration", S_422,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","duration":Infinity}}]}')))
    add(Case("-Infinity seed", S_422,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","seed":-Infinity}}]}')))
    add(Case("NaN volume", S_422,
             raw=raw_json('{"jobs":[{"id":"l","type":"lipSync","params":{"url":"' + SRC + '","audioUrl":"' + AUDIO
                          + '","volume":NaN}}]}')))
    add(Case("NaN transition duration", S_422,
             raw=raw_json('{"jobs":[{"id":"a","type":"generate","params":{"prompt":"x"}},{"id":"m","type":"merge",'
                          '"params":{"transition":{"type":"fade","duration":NaN}},"dependsOn":["a"]}]}')))
    add(Case("NaN in free-form cameraMotion", frozenset({400, 422}),
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","cameraMotion":{"zoom":NaN}}}]}')))
    add(Case("Infinity in an extra model input", frozenset({400, 422}),
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","guidance":Infinity}}]}')))
    add(Case("1e400 duration (overflows to inf)", S_422,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","duration":1e400}}]}')))
    add(Case("integer literal of 5000 digits", S_4XX_PARSE,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x","seed":1' + "0" * 5000 + "}}]}")))
    add(Case("duplicate keys, last one valid", S_202_OR_4XX,
             raw=raw_json('{"jobs":"nope","jobs":[{"id":"g","type":"generate","params":{"prompt":"x"}}]}')))
    add(Case("duplicate keys, last one invalid", S_422,
             raw=raw_json('{"jobs":[{"id":"g","type":"generate","params":{"prompt":"x"}}],"jobs":"nope"}')))
    add(Case("duplicate job keys: id twice", S_202_OR_4XX,
             raw=raw_json('{"jobs":[{"id":"../x","id":"g","type":"generate","params":{"prompt":"x"}}]}')))
    big_prompt = {"jobs": [{"id": "g", "type": "generate", "params": {"prompt": "x" * (MAX_BODY + 10)}}]}
    add(Case("body over 1 MiB (Content-Length)", S_413, raw=json.dumps(big_prompt).encode(), code="too_large"))
    add(Case("1 MiB of whitespace", S_413, raw=b"{" + b" " * MAX_BODY + b"}", code="too_large"))
    add(Case("100k tiny jobs, 1.1 MB", S_413, raw=b'{"jobs":[' + b'{"id":"a"},' * 100_000 + b'{"id":"b"}]}'))
    add(Case("declared Content-Length of 10 GB", S_413, raw=json.dumps(VALID).encode(),
             headers=(("content-length", str(10 * 1024 ** 3)),)))
    add(Case("body over 1 MiB, chunked without Content-Length", S_413, raw=json.dumps(big_prompt).encode(),
             stream=True))
    add(Case("text/plain content type", frozenset({415, 422}), raw=json.dumps(VALID).encode(), content_type="text/plain"))
    add(Case("form content type", frozenset({415, 422}), raw=b"jobs=1&jobs=2",
             content_type="application/x-www-form-urlencoded"))
    add(Case("multipart content type", frozenset({415, 422}), raw=b"--x\r\n\r\n--x--\r\n",
             content_type="multipart/form-data; boundary=x"))
    add(Case("no content type", frozenset({202, 415, 422}), raw=json.dumps(VALID).encode(), content_type=None))
    add(Case("gzip content encoding", frozenset({400, 415, 422}), raw=b"\x1f\x8b\x08\x00garbage",
             headers=(("content-encoding", "gzip"),)))

    # -- top-level structure ------------------------------------------------------------------------------------
    add(Case("empty object", S_422, body={}, code="validation_error"))
    for label, value in (("a string", "nope"), ("an object", {}), ("null", None), ("a number", 5),
                         ("a list of numbers", [5]), ("a list of strings", ["g"]), ("a list of nulls", [None]),
                         ("a list of lists", [[]])):
        add(Case(f"jobs is {label}", S_422, body={"jobs": value}, code="validation_error"))
    add(Case("jobs is an empty list", S_422, body={"jobs": []}, code="invalid_plan"))
    add(Case("executionPlan is a list", S_422, body={"executionPlan": []}, code="validation_error"))
    add(Case("executionPlan is a string", S_422, body={"executionPlan": "x"}, code="validation_error"))
    add(Case("executionPlan without jobs", S_422, body={"executionPlan": {}}, code="validation_error"))
    add(Case("executionPlan.jobs is an object", S_422, body={"executionPlan": {"jobs": {}}}, code="validation_error"))
    add(Case("both shapes at once", S_422, body={**documented(gen()), **VALID}, code="validation_error"))
    add(Case("rootJobIds is a string", S_422, body=plan(gen(), rootJobIds="g"), code="validation_error"))
    add(Case("rootJobIds holds a number", S_422, body=plan(gen(), rootJobIds=[1]), code="validation_error"))
    add(Case("rootJobIds unknown", S_422, body=plan(gen(), rootJobIds=["zzz"]), code="invalid_plan"))
    add(Case("executionPlan.rootJobIds unknown", S_422,
             body={"executionPlan": {"jobs": [gen()], "rootJobIds": ["../g"]}}, code="invalid_plan"))
    add(Case("rootJobIds empty list", frozenset({202, 422}), body=plan(gen(), rootJobIds=[])))
    add(Case("options is a string", S_422, body={"executionPlan": {"jobs": [gen()]}, "options": "x"}))
    add(Case("options.baseExecutionId traversal", S_422,
             body={"executionPlan": {"jobs": [gen()]}, "options": {"baseExecutionId": "../../etc"}}))
    add(Case("baseExecutionId is a number", S_422, body=plan(gen(), baseExecutionId=5)))
    add(Case("baseExecutionId unknown", S_404, body=plan(gen(), baseExecutionId="0123456789abcdef"), code="base_not_found"))
    add(Case("baseExecutionId of another tenant", S_404, body=plan(gen(), baseExecutionId="@foreign@"),
             code="base_not_found"))
    # The SDK's variants wait for a running base (its EXECUTION.md); documented-format clients get a 409.
    add(Case("baseExecutionId not completed, SDK format", S_202, body=plan(gen(), baseExecutionId="@own@")))
    add(Case("baseExecutionId not completed", S_409, body=documented(gen(), baseExecutionId="@own@"),
             code="base_not_completed"))

    # -- job-level types -------------------------------------------------------------------------------------
    bad_ids: dict[str, Any] = {
        "a number": 5, "null": None, "true": True, "a float 1e400": 1e400, "an empty string": "",
        "a path traversal": "../etc/passwd", "a slash": "a/b", "a backslash": "..\\x", "129 chars": "a" * 129,
        "10k chars": "a" * 10_000, "a NUL": "a\u0000", "a trailing newline": "a\n", "an RTL override": "a\u202eb",
        "a zero-width space": "a\u200bb", "an emoji": "clip🎬", "a leading dot": ".hidden", "a leading dash": "-rf",
        "a leading space": " a", "a lone surrogate": "a\ud800", "a percent escape": "a%2e%2e",
    }
    for label, value in bad_ids.items():
        add(Case(f"job id is {label}", S_422, body={"jobs": [{"id": value, "type": "generate",
                                                               "params": {"prompt": "x"}}]}, code="validation_error"))
    add(Case("job id missing", S_422, body={"jobs": [{"type": "generate", "params": {"prompt": "x"}}]}))
    add(Case("job id allowed punctuation", S_202, body=plan(gen("a:b.c-d_e"))))
    add(Case("job ids differing only by case", S_202, body=plan(gen("A"), gen("a"))))
    for label, value in (("a string", "x"), ("a list", []), ("null", None), ("a number", 1)):
        add(Case(f"params is {label}", S_422, body={"jobs": [{"id": "g", "type": "generate", "params": value}]},
                 code="validation_error"))
    add(Case("operation missing", S_422, body={"jobs": [{"id": "g", "params": {"prompt": "x"}}]}, code="invalid_plan"))
    add(Case("operation unknown", S_422, body=plan(job("g", "explode", {"prompt": "x"})), code="invalid_plan"))
    add(Case("operation is a number", S_422, body={"jobs": [{"id": "g", "type": 5, "params": {}}]}))
    add(Case("operation and type disagree", S_422,
             body={"jobs": [{"id": "g", "type": "generate", "operation": "merge", "params": {"prompt": "x"}}]},
             code="invalid_plan"))
    add(Case("operation of 65 chars", S_422, body=plan(job("g", "g" * 65, {"prompt": "x"}))))
    add(Case("operation with a NUL", S_422, body=plan(job("g", "gen\u0000erate", {"prompt": "x"}))))
    add(Case("dependsOn is a string", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, "g"))))  # type: ignore[arg-type]
    add(Case("dependsOn holds null", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, [None]))))  # type: ignore[list-item]
    add(Case("dependsOn holds a number", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, [1]))))  # type: ignore[list-item]
    add(Case("dependsOn with 201 entries", S_422, body=plan(gen(), job("m", "merge", {}, ["g"] * 201))))

    # -- graphs ----------------------------------------------------------------------------------------------
    add(Case("self dependency", S_422, body=plan(gen(), job("m", "merge", {}, ["m"])), code="invalid_plan"))
    add(Case("two-node cycle", S_422,
             body=plan(job("a", "merge", {}, ["b"]), job("b", "merge", {}, ["a"])), code="invalid_plan"))
    add(Case("three-node cycle", S_422,
             body=plan(job("a", "merge", {}, ["c"]), job("b", "merge", {}, ["a"]), job("c", "merge", {}, ["b"])),
             code="invalid_plan"))
    add(Case("cycle behind a valid source", S_422,
             body=plan(gen(), job("a", "merge", {}, ["g", "c"]), job("b", "reframe", {"aspectRatio": "1:1"}, ["a"]),
                       job("c", "addSubtitles", {"text": "x"}, ["b"])), code="invalid_plan"))
    add(Case("unknown dependency", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, ["ghost"])),
             code="invalid_plan"))
    add(Case("dependency with a NUL", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, ["g\u0000"]))))
    add(Case("dependency of 10k chars", S_422, body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, ["g" * 10_000]))))
    add(Case("duplicate job ids", S_422, body=plan(gen(), gen()), code="invalid_plan"))
    add(Case("201 jobs", S_422, body=plan(*[gen(f"j{i}") for i in range(201)]), code="invalid_plan"))
    add(Case("10k jobs", S_422, body=plan(*[{"id": f"j{i}", "type": "generate", "params": {"prompt": "x"}}
                                            for i in range(10_000)]), code="invalid_plan"))
    chain = [gen("j0")] + [job(f"j{i}", "reframe", {"aspectRatio": "1:1"}, [f"j{i - 1}"]) for i in range(1, 200)]
    add(Case("200-job chain (the limit)", S_202, body=plan(*chain)))
    clips = [gen(f"c{i}") for i in range(100)]
    dense = clips + [job(f"m{i}", "merge", {}, [f"c{(i + k) % 100}" for k in range(32)]) for i in range(100)]
    add(Case("200 jobs, 3200 edges (every merge at the input limit)", S_202, body=plan(*dense)))
    add(Case("generate with an input job", S_422, body=plan(gen("a"), {**gen("b"), "dependsOn": ["a"]}), code="invalid_plan"))
    add(Case("merge without inputs", S_422, body=plan(job("m", "merge", {}, [])), code="invalid_plan"))
    add(Case("reframe with two inputs", S_422,
             body=plan(gen("a"), gen("b"), job("r", "reframe", {"aspectRatio": "1:1"}, ["a", "b"])), code="invalid_plan"))
    add(Case("reframe with an input and a url", S_422, body=reframe(url=SRC), code="invalid_plan"))
    add(Case("reframe with neither input nor url", S_422, body=plan(job("r", "reframe", {"aspectRatio": "1:1"})),
             code="invalid_plan"))
    add(Case("reframe with a duplicate dependency", S_422,
             body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, ["g", "g"])), code="invalid_plan"))
    add(Case("merge of the same clip twice", S_202, body=plan(gen(), job("m", "merge", {}, ["g", "g"]))))

    # -- generate params ---------------------------------------------------------------------------------------
    for label, value in (("0", 0), ("-1", -1), ("601", 601), ("1e308", 1e308), ("null", None), ("a list", [5]),
                         ("an object", {"s": 5}), ("'abc'", "abc")):
        add(Case(f"generate duration {label}", S_422, body=plan(gen(duration=value)), code="invalid_plan"))
    # Lax numeric coercion: "5" and true are read as numbers. Accepting or refusing them is fine.
    add(Case("generate duration '5'", frozenset({202, 422}), body=plan(gen(duration="5"))))
    add(Case("generate duration true", frozenset({202, 422}), body=plan(gen(duration=True))))
    for label, value in (("-1", -1), ("2**32", 2 ** 32), ("2**64", 2 ** 64), ("1.5", 1.5), ("'abc'", "abc")):
        add(Case(f"generate seed {label}", S_422, body=plan(gen(seed=value)), code="invalid_plan"))
    for label, value in (("7:3", "7:3"), ("169", 169), ("empty", ""), ("1:1:1", "1:1:1"), ("16/9", "16/9")):
        add(Case(f"generate aspectRatio {label}", S_422, body=plan(gen(aspectRatio=value)), code="invalid_plan"))
    for label, value in (("720", "720"), ("abc", "abc"), ("a list", [720])):
        add(Case(f"generate resolution {label}", S_422, body=plan(gen(resolution=value)), code="invalid_plan"))
    add(Case("generate fps 0", S_422, body=plan(gen(fps=0)), code="invalid_plan"))
    add(Case("generate fps 61", S_422, body=plan(gen(fps=61)), code="invalid_plan"))
    add(Case("generate provider unknown", S_422, body=plan(gen(provider="evil")), code="invalid_plan"))
    add(Case("generate provider is a number", S_422, body=plan(gen(provider=5)), code="invalid_plan"))
    add(Case("generate url with provider local", S_422, body=plan(gen(url=SRC, provider="local")), code="invalid_plan"))
    add(Case("generate provider url without url", S_422, body=plan(gen(provider="url")), code="invalid_plan"))
    add(Case("generate without prompt", S_422, body=plan(job("g", "generate", {"duration": 1})), code="invalid_plan"))
    add(Case("generate prompt of 20,001 chars", S_422, body=plan(gen(prompt="p" * 20_001)), code="invalid_plan"))
    add(Case("generate prompt of 20,000 chars", S_202, body=plan(gen(prompt="p" * 20_000))))
    add(Case("generate negativePrompt of 20,001 chars", S_422, body=plan(gen(negativePrompt="n" * 20_001)), code="invalid_plan"))
    add(Case("generate model of 257 chars", S_422, body=plan(gen(model="m" * 257)), code="invalid_plan"))
    add(Case("generate cameraMotion is a list", S_422, body=plan(gen(cameraMotion=[1, 2])), code="invalid_plan"))
    add(Case("generate apiKey is a number", S_422, body=plan(gen(apiKey=5)), code="invalid_plan"))
    add(Case("generate prompt is a number", S_422, body=plan(gen(prompt=5)), code="invalid_plan"))
    add(Case("generate prompt with a lone surrogate", S_422, body=plan(gen(prompt="a\ud800b")), code="invalid_plan"))
    add(Case("documented nested params", S_202,
             body=plan({"id": "g", "type": "generate",
                        "params": {"provider": "local", "params": {"prompt": "x", "duration": 1}}})))
    add(Case("documented nested params, bad duration", S_422,
             body=plan({"id": "g", "type": "generate", "params": {"params": {"prompt": "x", "duration": -1}}}),
             code="invalid_plan"))
    add(Case("documented nested params is a list", S_422,
             body=plan({"id": "g", "type": "generate", "params": {"params": [1]}}), code="invalid_plan"))

    # -- merge params -------------------------------------------------------------------------------------------
    for label, value in (("unknown type", "explode"), ("duration 0", {"type": "fade", "duration": 0}),
                         ("duration 11", {"type": "fade", "duration": 11}),
                         ("duration -1", {"type": "fade", "duration": -1}),
                         ("unknown key", {"type": "fade", "sneaky": 1}), ("a number", 5), ("a list", ["fade"])):
        add(Case(f"merge transition {label}", S_422, body=merge(transition=value), code="invalid_plan"))
    add(Case("merge transitionDuration 'x'", S_422, body=merge(transition="fade", transitionDuration="x"), code="invalid_plan"))
    add(Case("merge transition upper case", S_202, body=merge(transition="FADE")))

    # -- reframe params -----------------------------------------------------------------------------------------
    add(Case("reframe aspectRatio missing", S_422, body=plan(gen(), job("r", "reframe", {}, ["g"])), code="invalid_plan"))
    add(Case("reframe aspectRatio 1:1:1", S_422, body=reframe(aspectRatio="1:1:1"), code="invalid_plan"))
    add(Case("reframe aspectRatio 0:0", S_422, body=reframe(aspectRatio="0:0"), code="invalid_plan"))
    add(Case("reframe strategy unknown", S_422, body=reframe(strategy="explode"), code="invalid_plan"))
    add(Case("reframe strategy is a number", S_422, body=reframe(strategy=5), code="invalid_plan"))
    add(Case("reframe allowUpscale 'maybe'", S_422, body=reframe(allowUpscale="maybe"), code="invalid_plan"))

    # -- lipSync params -----------------------------------------------------------------------------------------
    add(Case("lipSync audioUrl missing", S_422, body=plan(gen(), job("l", "lipSync", {}, ["g"])), code="invalid_plan"))
    add(Case("lipSync volume -1", S_422, body=lipsync(volume=-1), code="invalid_plan"))
    add(Case("lipSync volume 5", S_422, body=lipsync(volume=5), code="invalid_plan"))
    add(Case("lipSync fit unknown", S_422, body=lipsync(fit="bogus"), code="invalid_plan"))
    add(Case("lipSync provider unknown", S_422, body=lipsync(provider="evil"), code="invalid_plan"))

    # -- addSubtitles params ------------------------------------------------------------------------------------
    # No text source: the captions come from the video's own speech (SPEC: what the SDK sends).
    add(Case("subtitles without a source (captions from speech)", S_202, body=subs()))
    add(Case("subtitles text and srt", S_422, body=subs(text="a", srt="1\n00:00:00,000 --> 00:00:01,000\na\n"),
             code="invalid_plan"))
    add(Case("subtitles text of 20,001 chars", S_422, body=subs(text="t" * 20_001), code="invalid_plan"))
    add(Case("subtitles srt of 20,001 chars", S_422, body=subs(srt="s" * 20_001), code="invalid_plan"))
    add(Case("subtitles text of 20,000 chars", S_202, body=subs(text="t" * 20_000)))
    add(Case("subtitles 20,001 words", S_422, body=subs(words=[{"w": "a"}] * 20_001), code="invalid_plan"))
    for label, value in (("7", 7), ("201", 201), ("'big'", "big")):
        add(Case(f"subtitles fontSize {label}", S_422, body=subs(text="a", fontSize=value), code="invalid_plan"))
    for label, value in (("a colon", "Arial:fontfile=/etc/passwd"), ("a backslash", "Arial\\"),
                         ("a semicolon", "Arial;x"), ("brackets", "Arial[out]"), ("129 chars", "A" * 129),
                         ("a NUL", "Arial\u0000"), ("a newline", "Arial\nx")):
        add(Case(f"subtitles fontFamily with {label}", S_422, body=subs(text="a", fontFamily=value), code="invalid_plan"))
    add(Case("subtitles fontFamily with an apostrophe", S_202, body=subs(text="a", fontFamily="O'Reilly Sans")))
    for label, value in (("a word", "notacolour"), ("a number", 5), ("#12345", "#12345"), ("an expression", "red@0.5:x=1")):
        add(Case(f"subtitles colour {label}", S_422, body=subs(text="a", color=value), code="invalid_plan"))
    add(Case("subtitles position middle", S_422, body=subs(text="a", position="middle"), code="invalid_plan"))
    add(Case("subtitles style unknown preset", S_422, body=subs(text="a", style="fancy"), code="invalid_plan"))
    add(Case("subtitles style is a number", S_422, body=subs(text="a", style=5), code="invalid_plan"))
    add(Case("subtitles style unknown key", S_422, body=subs(text="a", style={"fontfile": "/etc/passwd"}), code="invalid_plan"))
    for label, value in (("reversed", {"start": 5, "end": 1}), ("equal", {"start": 2, "end": 2}),
                         ("negative start", {"start": -1, "end": 1}), ("end 601", {"start": 0, "end": 601}),
                         ("reversed pair", [5, 1]), ("a string", "0-5"), ("one element", [1])):
        add(Case(f"subtitles timing {label}", S_422, body=subs(text="a", timing=value), code="invalid_plan"))
    add(Case("subtitles language with punctuation", S_422, body=subs(text="a", language="en;rm"), code="invalid_plan"))

    # -- bounds on every number that reaches a renderer (vidassets/plan/bounds.py) ---------------------------
    for label, value in (("4098x720", "4098x720"), ("720x4098", "720x4098"), ("99999x99999", "99999x99999"),
                         ("14x14", "14x14"), ("odd width 321x180", "321x180"), ("odd height 320x181", "320x181"),
                         ("unknown name 9999p", "9999p"), ("unknown name 180p", "180p"), ("0x0", "00x00")):
        add(Case(f"generate resolution {label}", S_422, body=plan(gen(resolution=value)), code="invalid_plan"))
    add(Case("generate resolution 2160p at 21:9 (5040 px wide)", S_422,
             body=plan(gen(resolution="2160p", aspectRatio="21:9")), code="invalid_plan"))
    for label, value in (("4096x4096", "4096x4096"), ("16x16", "16x16"), ("2160p", "2160p"), ("4096x16", "4096x16")):
        add(Case(f"generate resolution {label} (at the limit)", S_202, body=plan(gen(resolution=value))))
    add(Case("generate duration shorter than a frame", S_422, body=plan(gen(duration=0.01)), code="invalid_plan"))
    add(Case("generate duration 0.5 at 1 fps", S_422, body=plan(gen(duration=0.5, fps=1)), code="invalid_plan"))
    add(Case("generate duration one frame at 60 fps", S_202, body=plan(gen(duration=1 / 60, fps=60))))
    add(Case("generate duration 600 (the limit)", S_202, body=plan(gen(duration=600))))
    add(Case("generate fps 60 (the limit)", S_202, body=plan(gen(fps=60))))
    add(Case("generate fps 24.5", S_422, body=plan(gen(fps=24.5)), code="invalid_plan"))
    add(Case("merge of 33 inputs", S_422, body=plan(*[gen(f"c{i}") for i in range(33)],
                                                     job("m", "merge", {}, [f"c{i}" for i in range(33)])), code="invalid_plan"))
    add(Case("merge of 32 inputs (the limit)", S_202, body=plan(*[gen(f"c{i}") for i in range(32)],
                                                                 job("m", "merge", {}, [f"c{i}" for i in range(32)]))))
    add(Case("merge of one clip 40 times", S_422, body=plan(gen(), job("m", "merge", {}, ["g"] * 40)), code="invalid_plan"))
    add(Case("dependsOn with 65 entries", S_422, body=plan(gen(), job("m", "merge", {}, ["g"] * 65)), code="invalid_plan"))
    add(Case("reframe with 65 dependencies", S_422,
             body=plan(gen(), job("r", "reframe", {"aspectRatio": "1:1"}, ["g"] * 65)), code="invalid_plan"))
    add(Case("rootJobIds with 201 entries", S_422, body=plan(gen(), rootJobIds=["g"] * 201), code="invalid_plan"))
    long_clips = [gen(f"c{i}", duration=600) for i in range(7)]
    add(Case("merge lasting 4200 s", S_422, body=plan(*long_clips, job("m", "merge", {}, [f"c{i}" for i in range(7)])),
             code="invalid_plan"))
    add(Case("merge lasting 3600 s (the limit)", S_202,
             body=plan(*long_clips[:6], job("m", "merge", {}, [f"c{i}" for i in range(6)]))))
    add(Case("merge of merges lasting 7200 s", S_422,
             body=plan(*long_clips[:6], job("m1", "merge", {}, [f"c{i}" for i in range(6)]),
                       job("m2", "merge", {}, ["m1", "m1"])), code="invalid_plan"))
    add(Case("merge of reframed merges lasting 7200 s", S_422,
             body=plan(*long_clips[:6], job("m1", "merge", {}, [f"c{i}" for i in range(6)]),
                       job("r", "reframe", {"aspectRatio": "1:1"}, ["m1"]), job("m2", "merge", {}, ["m1", "r"])),
             code="invalid_plan"))
    add(Case("transition longer than a clip", S_422,
             body=plan(gen("a"), gen("b"), job("m", "merge", {"transition": {"type": "fade", "duration": 1.5}}, ["a", "b"])),
             code="invalid_plan"))
    add(Case("transition longer than half the middle clip", S_422,
             body=plan(gen("a", duration=2), gen("b", duration=1.5), gen("c", duration=2),
                       job("m", "merge", {"transition": "fade", "transitionDuration": 1}, ["a", "b", "c"])),
             code="invalid_plan"))
    add(Case("transition exactly half the middle clip", S_202,
             body=plan(gen("a", duration=2), gen("b", duration=2), gen("c", duration=2),
                       job("m", "merge", {"transition": "fade", "transitionDuration": 1}, ["a", "b", "c"]))))
    add(Case("transition longer than an imported clip (unknown length: decided at run time)", S_202,
             body=plan({"id": "a", "type": "generate", "params": {"url": SRC}}, gen("b", duration=5),
                       job("m", "merge", {"transition": {"type": "fade", "duration": 4}}, ["a", "b"]))))
    add(Case("cut of clips shorter than the default transition", S_202,
             body=plan(gen("a", duration=0.2), gen("b", duration=0.2), job("m", "merge", {"transition": "cut"}, ["a", "b"]))))
    add(Case("lipSync volume 4 (the limit)", S_202, body=lipsync(volume=4)))
    add(Case("lipSync volume 4.01", S_422, body=lipsync(volume=4.01), code="invalid_plan"))

    # -- reframe: crop is the original plan's name for strategy ------------------------------------------
    for value in ("center", "top", "bottom", "left", "right", "smart"):
        add(Case(f"reframe crop {value}", S_202, body=reframe(crop=value)))
    add(Case("reframe crop and strategy agree", S_202, body=reframe(crop="top", strategy="top")))
    add(Case("reframe crop and strategy disagree", S_422, body=reframe(crop="top", strategy="center"), code="invalid_plan"))
    add(Case("reframe crop unknown", S_422, body=reframe(crop="zoom"), code="invalid_plan"))
    add(Case("reframe crop is a number", S_422, body=reframe(crop=1), code="invalid_plan"))

    # -- the TypeScript SDK's non-unified generateVideo -----------------------------------------------------
    seedance = {"provider": "replicate", "modelId": "bytedance/seedance-1-pro", "unified": False,
                "model": {"provider": "replicate", "modelId": "bytedance/seedance-1-pro", "options": {"apiKey": "r8_x"}},
                "apiKey": "r8_x", "image": "https://media.example.com/first.png", "aspect_ratio": "9:16",
                "camera_fixed": True, "duration": 5}
    add(Case("non-unified generateVideo", S_202, body=plan({"id": "job1", "type": "generate", "params": seedance})))
    add(Case("non-unified generateVideo, model options carry inputs", S_202,
             body=plan({"id": "job1", "type": "generate", "params": {
                 **seedance, "model": {"provider": "replicate", "modelId": "x/y", "options": {"prompt": "p", "seed": 3}},
                 "modelId": "x/y"}})))
    for label, change in (("aspect_ratio 2:1", {"aspect_ratio": "2:1"}), ("duration 601", {"duration": 601}),
                          ("image to a metadata address", {"image": METADATA_URLS["aws"]}),
                          ("image not a URL", {"image": "file:///etc/passwd"}),
                          ("model provider disagrees", {"model": {"provider": "fal", "modelId": "bytedance/seedance-1-pro"}}),
                          ("model options not an object", {"model": {"provider": "replicate", "options": 5}}),
                          ("image and startImage disagree", {"startImage": "https://media.example.com/other.png"}),
                          ("model provider unknown", {"provider": None, "model": {"provider": "evil", "modelId": "m"}})):
        add(Case(f"non-unified generateVideo, {label}", S_422,
                 body=plan({"id": "job1", "type": "generate", "params": {**seedance, **change}}), code="invalid_plan"))

    # -- text is data: filter-syntax injection must be accepted ---------------------------------------------
    for label, text in INJECTIONS.items():
        add(Case(f"prompt injection: {label}", S_202, body=plan(gen(prompt=text))))
        add(Case(f"subtitle text injection: {label}", S_202, body=subs(text=text)))
    add(Case("srt cue with filter syntax", S_202,
             body=subs(srt="1\n00:00:00,000 --> 00:00:01,000\n" + INJECTIONS["drawtext"] + "\n")))

    # -- Unicode everywhere ------------------------------------------------------------------------------------
    for label, text in UNICODE.items():
        add(Case(f"prompt unicode: {label}", S_202, body=plan(gen(prompt=text))))
        add(Case(f"subtitle unicode: {label}", S_202, body=subs(text=text)))
    add(Case("webhook secret unicode", S_202, body=plan(gen(), webhook={"url": "https://hooks.example.com/x",
                                                                          "secret": UNICODE["emoji"]})))
    add(Case("prompt with a NUL", frozenset({202, 422}), body=plan(gen(prompt="a\u0000b"))))
    add(Case("negativePrompt with a NUL", frozenset({202, 422}), body=plan(gen(negativePrompt="\u0000"))))
    add(Case("model with a NUL", frozenset({202, 422}), body=plan(gen(model="m\u0000"))))
    add(Case("extra generate key named with a NUL", frozenset({202, 422}), body=plan(gen(**{"k\u0000": 1}))))
    add(Case("subtitle text with a NUL", frozenset({202, 422}), body=subs(text="a\u0000b")))
    add(Case("subtitle words with a NUL", frozenset({202, 422}), body=subs(words=[{"w": "\u0000"}])))
    add(Case("webhook secret with a NUL", frozenset({202, 422}),
             body=plan(gen(), webhook={"url": "https://hooks.example.com/x", "secret": "s\u0000"})))
    add(Case("apiKey with a NUL", frozenset({202, 422}), body=plan(gen(apiKey="k\u0000"))))
    add(Case("webhookUrl with a lone surrogate", S_422, body=plan(gen(), webhookUrl="https://e.com/\ud800")))
    add(Case("webhook.url with a lone surrogate", S_422, body=plan(gen(), webhook={"url": "https://e.com/\udfff"})))
    add(Case("options.webhookUrl with a lone surrogate", S_422, body=documented(gen(), webhookUrl="https://e.com/\ud83d")))
    add(Case("media url with a lone surrogate", S_422, body=plan(job("g", "generate", {"url": "https://e.com/\ud800.mp4"}))))
    add(Case("media url with an RTL override in the host", S_202_OR_4XX,
             body=plan(job("g", "generate", {"url": "https://exa\u202emple.com/clip.mp4"}))))

    # -- URLs in every URL field ------------------------------------------------------------------------------
    for field_name, (build, code) in _url_plans().items():
        for label, url in BAD_URLS.items():
            add(Case(f"{field_name} {label} URL", S_422, body=build(url), code=code))
    for field_name, (build, _code) in _url_plans().items():
        if "ebhook" in field_name:
            continue
        for label, url in PRIVATE_URLS.items():
            add(Case(f"{field_name} {label} URL (accepted at submit)", S_202, body=build(url)))
        add(Case(f"{field_name} s3 URL", S_202, body=build("s3://bucket/key.mp4")))
    add(Case("webhookUrl s3 scheme", S_422, body=plan(gen(), webhookUrl="s3://bucket/hook"), code="validation_error"))
    for field_name, (build, code) in _url_plans().items():
        for label, url in METADATA_URLS.items():
            add(Case(f"{field_name} {label} metadata URL (refused at submit)", S_422, body=build(url), code=code))
        for label, url in PRIVATE_URLS.items():
            add(Case(f"{field_name} {label} URL, SSRF guard on", S_422, body=build(url), strict=True,
                     code="invalid_plan"))
        add(Case(f"{field_name} private host name, SSRF guard on (refused when connecting)", S_202, strict=True,
                 body=build("http://localhost/clip.mp4")))
        add(Case(f"{field_name} public address, SSRF guard on", S_202, strict=True,
                 body=build("http://93.184.216.34/clip.mp4")))
    for label, url in PRIVATE_SPELLINGS.items():
        add(Case(f"generate.url {label}, SSRF guard on", S_422, body=_url_plans()["generate.url"][0](url), strict=True,
                 code="invalid_plan"))
        add(Case(f"generate.url {label}, embedded default", S_202, body=_url_plans()["generate.url"][0](url)))
    add(Case("generate.url s3 bucket named like an address, SSRF guard on (a bucket, not a host)", S_202, strict=True,
             body=_url_plans()["generate.url"][0]("s3://10.0.0.1/key.mp4")))
    add(Case("webhook is a string", S_422, body=plan(gen(), webhook="https://hooks.example.com/x")))
    add(Case("webhook without url", S_422, body=plan(gen(), webhook={})))
    add(Case("webhook secret empty", S_422, body=plan(gen(), webhook={"url": "https://hooks.example.com/x", "secret": ""})))
    add(Case("webhook secret of 513 chars", S_422,
             body=plan(gen(), webhook={"url": "https://hooks.example.com/x", "secret": "s" * 513})))

    # -- providerApiKeys ---------------------------------------------------------------------------------------
    add(Case("providerApiKeys unknown provider", S_422, body=plan(gen(), providerApiKeys={"openai": "sk"}), code="invalid_plan"))
    add(Case("providerApiKeys empty provider name", S_422, body=plan(gen(), providerApiKeys={"": "sk"}), code="invalid_plan"))
    for label, value in (("a number", 5), ("null", None), ("an object", {"k": "v"}), ("a list", ["k"])):
        add(Case(f"providerApiKeys value is {label}", S_422, body=plan(gen(), providerApiKeys={"replicate": value}),
                 code="validation_error"))
    add(Case("providerApiKeys is a list", S_422, body=plan(gen(), providerApiKeys=["replicate"]), code="validation_error"))
    add(Case("providerApiKeys with 17 entries", S_422, body=plan(gen(), providerApiKeys={f"p{i}": "k" for i in range(17)})))
    add(Case("providerApiKeys alias google", S_202, body=plan(gen(), providerApiKeys={"google": "ya29.x"})))

    # -- auth --------------------------------------------------------------------------------------------------
    add(Case("no Authorization header", S_401, body=VALID, auth=False, code="unauthorized"))
    for label, value in (("Bearer alone", "Bearer"), ("Bearer and spaces", "Bearer    "), ("Basic", "Basic dXNlcjpwYXNz"),
                         ("unknown key", "Bearer va_0000000000000000_" + "x" * 43), ("garbage token", "Bearer ' OR 1=1 --"),
                         ("10k token", "Bearer " + "x" * 10_000), ("scheme only", "Token abc"),
                         ("two tokens", "Bearer a b")):
        add(Case(f"Authorization: {label}", S_401, body=VALID, headers=(("authorization", value),), code="unauthorized"))
    add(Case("Authorization with latin-1 bytes", S_401, body=VALID,
             headers=(("authorization", b"Bearer va_\x80\xff"),), code="unauthorized"))
    add(Case("Authorization with a NUL byte", S_401, body=VALID, headers=(("authorization", b"Bearer va_\x00"),)))
    add(Case("list without a key", S_401, method="GET", path="/api/executions", auth=False))
    add(Case("status without a key", S_401, method="GET", path="/api/execute/{own}/status", auth=False))
    add(Case("rerender without a key", S_401, path="/api/rerender", body={"kinds": ["subtitled"]}, auth=False))

    # -- Idempotency-Key abuse ---------------------------------------------------------------------------------
    add(Case("Idempotency-Key of 256 chars", S_422, body=VALID, headers=(("idempotency-key", "k" * 256),),
             code="validation_error"))
    add(Case("Idempotency-Key of 8k chars", S_422, body=VALID, headers=(("idempotency-key", "k" * 8000),)))
    add(Case("Idempotency-Key empty", frozenset({202, 422}), body=VALID, headers=(("idempotency-key", ""),)))
    add(Case("Idempotency-Key with latin-1 bytes", frozenset({202, 422}), body=VALID,
             headers=(("idempotency-key", b"k\x80\xff"),)))
    add(Case("Idempotency-Key with a NUL byte", frozenset({202, 400, 422}), body=VALID,
             headers=(("idempotency-key", b"k\x00k"),)))
    add(Case("Idempotency-Key replayed with the same body", S_202, body=VALID,
             headers=(("idempotency-key", "replay-same"),), prelude=(VALID,)))
    add(Case("Idempotency-Key reused with another body", S_409, body=plan(gen(prompt="another")),
             headers=(("idempotency-key", "replay-other"),), prelude=(VALID,), code="idempotency_conflict"))

    # -- execution ids in paths --------------------------------------------------------------------------------
    odd_ids = {"unknown": "0123456789abcdef", "5000 chars": "a" * 5000, "an emoji": "%F0%9F%8E%AC",
               "invalid UTF-8": "%FF%FE", "encoded surrogate": "%ED%A0%80", "SQL": "'%20OR%201=1--",
               "a space": "%20", "a percent": "%25", "dots": "..%2E"}
    for label, eid in odd_ids.items():
        add(Case(f"status of id {label}", frozenset({404, 422}), method="GET", path=f"/api/execute/{eid}/status"))
    for method, suffix in (("GET", "/status"), ("GET", ""), ("POST", "/cancel"), ("POST", "/retry"),
                           ("GET", "/webhooks"), ("POST", "/webhooks/redeliver"), ("DELETE", "/cache")):
        add(Case(f"{method} {suffix or '/'} of id with a NUL", frozenset({404, 422}), method=method,
                 path=f"/api/execute/%00{suffix}"))
        add(Case(f"{method} {suffix or '/'} of another tenant's execution", S_404, method=method,
                 path=f"/api/execute/{{foreign}}{suffix}", code="not_found"))
    add(Case("path traversal after execute", S_404, method="GET", path="/api/execute/../../etc/passwd"))
    add(Case("encoded slash in the id", S_404, method="GET", path="/api/execute/a%2Fb/status"))
    add(Case("empty id", S_404, method="GET", path="/api/execute//status"))
    add(Case("retry a pending execution", S_409, path="/api/execute/{own}/retry", code="conflict"))
    add(Case("redeliver without a webhook", S_409, path="/api/execute/{own}/webhooks/redeliver", code="conflict"))
    add(Case("redeliver before the end", S_409, path="/api/execute/{hooked}/webhooks/redeliver", code="conflict"))
    add(Case("cancel a pending execution", S_202, path="/api/execute/{victim}/cancel"))
    add(Case("cancel it again", S_409, path="/api/execute/{victim}/cancel", code="conflict"))
    add(Case("retry the cancelled one", S_202, path="/api/execute/{victim}/retry"))
    add(Case("unknown route", S_404, method="GET", path="/api/nothing-here", code="not_found"))
    add(Case("PUT on execute", frozenset({405}), method="PUT", path="/api/execute", body=VALID))
    add(Case("PATCH on status", frozenset({405}), method="PATCH", path="/api/execute/{own}/status"))
    add(Case("TRACE on execute", frozenset({405}), method="TRACE", path="/api/execute"))

    # -- list, artefacts, rerender -------------------------------------------------------------------------------
    for label, query in (("limit 0", "limit=0"), ("limit -1", "limit=-1"), ("limit 201", "limit=201"),
                         ("limit 1e3", "limit=1e3"), ("limit huge", "limit=99999999999999999999999"),
                         ("limit empty", "limit="), ("unknown status", "status=bogus"),
                         ("cursor traversal", "cursor=..%2F.."), ("cursor NUL", "cursor=%00"),
                         ("cursor 65 chars", "cursor=" + "a" * 65)):
        add(Case(f"list with {label}", S_422, method="GET", path=f"/api/executions?{query}", code="validation_error"))
    add(Case("list with repeated statuses", frozenset({200}), method="GET",
             path="/api/executions?status=pending&status=failed&status=pending"))
    add(Case("artefact traversal", frozenset({403, 404}), method="GET",
             path="/api/artefacts/..%2F..%2Fetc%2Fpasswd?expires=1&sig=x"))
    add(Case("artefact absolute path", frozenset({403, 404}), method="GET", path="/api/artefacts//etc/passwd?expires=1&sig=x"))
    add(Case("artefact NUL key", frozenset({403, 404}), method="GET", path="/api/artefacts/%00?expires=1&sig=x"))
    add(Case("artefact signature not ASCII", frozenset({403, 404}), method="GET",
             path="/api/artefacts/x?expires=99999999999&sig=%C3%A9"))
    add(Case("artefact signature not ASCII, anonymous", frozenset({403, 404}), method="GET", auth=False,
             path="/api/artefacts/executions/x/y.mp4?expires=99999999999&sig=%F0%9F%94%91"))
    add(Case("artefact without signature", S_422, method="GET", path="/api/artefacts/x"))
    add(Case("artefact signature of 200 chars", S_422, method="GET", path="/api/artefacts/x?expires=1&sig=" + "x" * 200))
    add(Case("artefact expires not a number", S_422, method="GET", path="/api/artefacts/x?expires=soon&sig=x"))
    add(Case("artefact expires huge", frozenset({403, 404, 422}), method="GET",
             path="/api/artefacts/x?expires=99999999999999999999999&sig=x"))
    add(Case("rerender kinds empty", S_422, path="/api/rerender", body={"kinds": []}))
    add(Case("rerender kinds unknown", S_422, path="/api/rerender", body={"kinds": ["bogus"]}))
    add(Case("rerender kinds not a list", S_422, path="/api/rerender", body={"kinds": "subtitled"}))
    add(Case("rerender since garbage", S_422, path="/api/rerender", body={"kinds": ["subtitled"], "since": "forever"}))
    add(Case("rerender since with a newline", S_422, path="/api/rerender", body={"kinds": ["subtitled"], "since": "7d\n"}))
    add(Case("rerender dry run", S_202, path="/api/rerender", body={"kinds": ["subtitled"], "since": "7d", "dryRun": True}))
    for since in ("99999999999999999999d", "999999999d", "100000000000s"):
        add(Case(f"rerender since {since}", frozenset({202, 422}), path="/api/rerender",
                 body={"kinds": ["subtitled"], "since": since, "dryRun": True}))

    _media_operation_cases(add)
    return cases


def _media_operation_cases(add: Any) -> None:
    """Today's SDK's operations: placements and keys that could reach a filter graph, sizes, counts."""
    clip = [{"clips": [{"url": "https://media.example.com/clip.mp4"}]}]
    for label, placement in (("an expression", {"width": "iw/2"}), ("a filter chain", "w-1/4;drawtext=text=x"),
                             ("a huge width", {"width": "99999"}), ("a negative x", {"position": {"x": "-5"}}),
                             ("NaN", {"width": "NaN"}), ("a list", ["pip"]), ("w-0/4", "w-0/4"),
                             ("an unknown word", "bottom-rightt")):
        add(Case(f"layer placement {label}", S_422, body=plan(layer([*clip, {**clip[0], "placement": placement}])),
                 code="invalid_plan"))
    for label, colour in (("a filter", "00ff00:similarity=1"), ("a name", "purple"), ("7 digits", "00ff000")):
        add(Case(f"layer chromaKeyColor {label}", S_422,
                 body=plan(layer([*clip, {**clip[0], "chromaKey": True, "chromaKeyColor": colour}])), code="invalid_plan"))
    add(Case("layer similarity 5", S_422, body=plan(layer([*clip, {**clip[0], "similarity": 5}])), code="invalid_plan"))
    add(Case("layer with 17 layers", S_422, body=plan(layer(clip * 17)), code="invalid_plan"))
    add(Case("layer with 33 media", S_422, body=plan(layer([{"clips": clip[0]["clips"] * 33}])), code="invalid_plan"))
    add(Case("layer outputWidth 5000", S_422, body=plan(layer(clip, outputWidth=5000)), code="invalid_plan"))
    add(Case("layer two main layers", S_422, body=plan(layer([{**clip[0], "main": True}] * 2)), code="invalid_plan"))
    add(Case("layer clip with url and input", S_422,
             body=plan(gen("a"), job("L", "layer", {"layers": [{"clips": [{"url": AUDIO, "input": "a"}]}]}, ["a"])),
             code="invalid_plan"))
    add(Case("layer of a plain URL", S_202, body=plan(layer(clip))))
    add(Case("merge track volume 3", S_422, body=plan(gen("a"), job("m", "merge", {"audio": [{"url": AUDIO, "volume": 3}]},
                                                                       ["a"])), code="invalid_plan"))
    add(Case("merge track offset -1", S_422, body=plan(gen("a"), job("m", "merge", {"audio": [{"url": AUDIO, "offset": -1}]},
                                                                         ["a"])), code="invalid_plan"))
    add(Case("merge clips miscounted", S_422, body=plan(gen("a"), job("m", "merge", {"clips": [{}, {}]}, ["a"])),
             code="invalid_plan"))
    add(Case("merge of a speech job as a picture", S_422,
             body=plan(job("s", "generateAudio", {"provider": "replicate", "text": "hi"}), job("m", "merge", {}, ["s"]),
                       providerApiKeys={"replicate": "r8_x"}), code="invalid_plan"))
    add(Case("generateImage without a provider", S_422, body=plan(job("i", "generateImage", {"prompt": "x"})),
             code="invalid_plan"))
    add(Case("generateImage on an unknown provider", S_422,
             body=plan(job("i", "generateImage", {"provider": "evil", "prompt": "x"})), code="invalid_plan"))
    add(Case("generateAudio text of 20,001 chars", S_422,
             body=plan(job("s", "generateAudio", {"provider": "elevenlabs", "text": "t" * 20_001}),
                       providerApiKeys={"elevenlabs": "k"}), code="invalid_plan"))
    add(Case("generateAudio with no text", S_422, body=plan(job("s", "generateAudio", {"provider": "hume"}),
                                                            providerApiKeys={"hume": "k"}), code="invalid_plan"))
    add(Case("generate on elevenlabs", S_422, body=plan(gen(provider="elevenlabs")), code="invalid_plan"))


CASES: list[Case] = _corpus()
BY_NAME: dict[str, Case] = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
