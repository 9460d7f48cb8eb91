"""Property-based tests of the plan validator: ``normalize_request(PlanCreate.model_validate(body))``.

* any JSON-ish body either yields a Submission or raises pydantic's ValidationError /
  PlanValidationError (with issues that name a field) — never anything else;
* random acyclic graphs of valid jobs (up to 30) are accepted, whatever order the jobs come in,
  and the topological order respects every dependency;
* adding a back edge always yields a cycle error that names a real cycle;
* renaming job IDs never changes the verdict.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from vidassets.plan import PlanCreate, PlanValidationError, Submission, bounds, normalize_request
from vidassets.plan.dag import topological_order
from vidassets.plan.models import JOB_ID_PATTERN

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Whole 30-job DAGs are costly to generate: fewer examples, still a few thousand jobs per run.
DAG_SETTINGS = settings(max_examples=100, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
ID_RE = re.compile(JOB_ID_PATTERN)


def verdict(body: Any) -> Submission | PlanValidationError | ValidationError:
    """The validator's answer; any other exception propagates and fails the property."""
    try:
        model = PlanCreate.model_validate(body)
    except ValidationError as exc:
        return exc
    try:
        return normalize_request(model)
    except PlanValidationError as exc:
        assert exc.issues, "a PlanValidationError must carry at least one issue"
        for issue in exc.issues:
            assert isinstance(issue.field, str) and issue.field and isinstance(issue.message, str) and issue.message
        return exc


def check_submission(sub: Submission) -> None:
    """Invariants of every accepted plan."""
    ids = [j.id for j in sub.plan.jobs]
    assert len(ids) == len(set(ids)) and all(ID_RE.fullmatch(i) for i in ids)
    assert all(dep in ids for j in sub.plan.jobs for dep in j.depends_on)
    assert set(sub.plan.root_job_ids) <= set(ids)
    order = topological_order(sub.plan.edges)
    position = {jid: n for n, jid in enumerate(order)}
    assert all(position[dep] < position[j.id] for j in sub.plan.jobs for dep in j.depends_on)
    for job in sub.plan.jobs:
        json.dumps(dict(job.params), allow_nan=False)  # stored params are strict JSON
        assert "apiKey" not in job.params  # secrets never stay in the plan


# -- strategies ---------------------------------------------------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
                | st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=20)

_ALNUM = string.ascii_letters + string.digits
valid_ids = st.builds(lambda head, tail: head + tail, st.sampled_from(_ALNUM),
                      st.text(alphabet=_ALNUM + "_.:-", max_size=12))
weird_ids = st.sampled_from(["../x", "", "a b", "a\u0000", "a\n", "x" * 130, "é", "-a"]) | st.text(max_size=6)
any_ids = st.one_of(st.sampled_from(["a", "b", "c", "m"]), st.sampled_from(["a", "b", "c", "m"]), valid_ids, weird_ids)
op_names = st.one_of(st.sampled_from(["generate", "merge", "reframe", "lipSync", "addSubtitles"]),
                     st.sampled_from(["generateVideo", "concat", "lip_sync", "subtitles", "MERGE", "bogus", ""]),
                     st.none() | st.integers())
param_keys = st.sampled_from(["prompt", "duration", "aspectRatio", "seed", "url", "audioUrl", "text", "srt", "vtt",
                              "transition", "transitionDuration", "strategy", "style", "timing", "provider", "model",
                              "params", "fontSize", "color", "volume", "resolution", "fps", "startImage", "words",
                              "subtitlesUrl", "language", "apiKey", "cameraMotion", "fit", "position"]) | st.text(max_size=6)
plausible = st.sampled_from(["16:9", "9:16", "7:3", "fade", "crossfade", "explode", "bold", "center", "smart", "local",
                             "url", "replicate", "evil", "http://h/x.mp4", "https://h/a.m4a", "s3://b/k",
                             "file:///etc/passwd", "'; drawtext=text=x:[out]", "#FFFFFF", "red", "en", "720p",
                             1, 0, -1, 0.5, 5, 601, 2 ** 40, 1e308, True, None, [0, 1], [5, 1], {"type": "fade"},
                             {"start": 1, "end": 0}, {"preset": "bold"}, {"prompt": "nested"}])
param_values = plausible | json_values
VALID_PARAMS = {
    "generate": {"prompt": "a clip", "duration": 2}, "merge": {"transition": "fade"},
    "reframe": {"aspectRatio": "9:16"}, "lipSync": {"audioUrl": "https://h/a.m4a"}, "addSubtitles": {"text": "hi"},
}
random_job = st.fixed_dictionaries(
    {"id": any_ids, "params": st.dictionaries(param_keys, param_values, max_size=6)},
    optional={"type": op_names, "operation": op_names, "dependsOn": st.lists(any_ids, max_size=4)})
# A valid job with one or two params changed: probes the validator near its edges.
mutated_job = st.builds(
    lambda op, jid, changes, deps: {"id": jid, "type": op, "params": {**VALID_PARAMS[op], **changes}, "dependsOn": deps},
    st.sampled_from(sorted(VALID_PARAMS)), any_ids, st.dictionaries(param_keys, param_values, max_size=2),
    st.lists(any_ids, max_size=3))
jobs_strategy = st.lists(random_job | mutated_job | mutated_job, max_size=8)
clean_ids = st.sampled_from(["a", "b", "c", "m", "r"]) | valid_ids
clean_jobs = st.lists(st.builds(
    lambda op, jid, changes, deps: {"id": jid, "type": op, "params": {**VALID_PARAMS[op], **changes}, "dependsOn": deps},
    st.sampled_from(sorted(VALID_PARAMS)), clean_ids,
    st.dictionaries(param_keys, param_values, max_size=1) | st.just({}),
    st.lists(clean_ids, max_size=2) | st.just([])), min_size=1, max_size=8)
# Structurally sound plans with graph and param mistakes: they get past pydantic to normalize_request.
shape_clean = st.fixed_dictionaries({"jobs": clean_jobs}, optional={"rootJobIds": st.lists(clean_ids, max_size=2)})
urls = st.sampled_from(["https://hooks.example.com/x", "ftp://x/", "http://169.254.169.254/", "", "javascript:x"])
shape_b = st.fixed_dictionaries({"jobs": jobs_strategy}, optional={
    "rootJobIds": st.lists(any_ids, max_size=3), "webhookUrl": urls, "baseExecutionId": any_ids | st.none(),
    "providerApiKeys": st.dictionaries(st.sampled_from(["replicate", "fal", "google", "openai"]) | st.text(max_size=4),
                                       st.text(max_size=5) | st.integers(), max_size=3),
    "webhook": st.fixed_dictionaries({"url": urls}, optional={"secret": st.text(max_size=5)}),
})
shape_a = st.fixed_dictionaries(
    {"executionPlan": st.fixed_dictionaries({"jobs": jobs_strategy}, optional={"rootJobIds": st.lists(any_ids, max_size=3)})},
    optional={"options": st.fixed_dictionaries({}, optional={"webhookUrl": urls, "webhookSecret": st.text(max_size=5)})},
)
bodies = (shape_clean | shape_clean | shape_b | shape_a | json_values
          | st.dictionaries(st.sampled_from(["jobs", "executionPlan", "options"]), json_values))


_OVERLAP = {"cut": 0.0, "fade": 0.5, "wipe": 0.25}  # the transitions valid_dags uses, and their lengths


@st.composite
def valid_dags(draw: st.DrawFn, max_jobs: int = 30) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """A random acyclic plan of valid jobs, in shuffled order; also returns its edges.

    Valid includes the duration bounds: clips last at least a second (longer than any transition
    here needs) and a merge's inputs are trimmed until its output fits ``bounds.MAX_MERGED_S``.
    """
    n = draw(st.integers(1, max_jobs))
    ids = draw(st.lists(valid_ids, min_size=n, max_size=n, unique=True))
    jobs: list[dict[str, Any]] = []
    edges: dict[str, list[str]] = {}
    length: dict[str, float] = {}
    for i, jid in enumerate(ids):
        earlier = ids[:i]
        kinds = ["generate", "merge", "merge", "reframe", "lipSync", "addSubtitles"]
        kind = draw(st.sampled_from(kinds)) if earlier else "generate"
        if kind == "generate":
            params: dict[str, Any] = {
                "prompt": draw(st.text(alphabet=string.ascii_letters + " ':[]%{}\\", min_size=1, max_size=40).filter(str.strip)),
                "duration": draw(st.floats(1.0, bounds.MAX_CLIP_S)),
                "aspectRatio": draw(st.sampled_from(["16:9", "9:16", "1:1", "4:5"])),
                "seed": draw(st.integers(0, 2 ** 32 - 1)),
            }
            deps: list[str] = []
            length[jid] = params["duration"]
        elif kind == "merge":
            deps = draw(st.lists(st.sampled_from(earlier), min_size=1, max_size=4))
            params = {"transition": draw(st.sampled_from(["cut", "fade", {"type": "wipe", "duration": 0.25}]))}
            kind_name = params["transition"] if isinstance(params["transition"], str) else "wipe"

            def merged(inputs: list[str], kind_name: str = kind_name) -> float:
                return sum(length[d] for d in inputs) - _OVERLAP[kind_name] * (len(inputs) - 1)

            while len(deps) > 1 and merged(deps) > bounds.MAX_MERGED_S:
                deps.pop()
            length[jid] = merged(deps)
        elif kind == "reframe":
            deps = [draw(st.sampled_from(earlier))]
            params = {"aspectRatio": "9:16", "strategy": draw(st.sampled_from(["center", "blur", "smart"]))}
            length[jid] = length[deps[0]]
        elif kind == "lipSync":
            deps = [draw(st.sampled_from(earlier))]
            params = {"audioUrl": "https://media.example.com/voice.m4a", "volume": 0.5}
            length[jid] = length[deps[0]]
        else:
            deps = [draw(st.sampled_from(earlier))]
            params = {"text": draw(st.text(alphabet=string.printable, min_size=1, max_size=30).filter(str.strip)),
                      "style": "bold"}
            length[jid] = length[deps[0]]
        jobs.append({"id": jid, "type": kind, "params": params, "dependsOn": deps})
        edges[jid] = deps
    order = draw(st.permutations(range(n)))
    return [jobs[k] for k in order], edges


def _descendants(edges: dict[str, list[str]], node: str) -> set[str]:
    children: dict[str, set[str]] = {n: set() for n in edges}
    for n, deps in edges.items():
        for d in deps:
            children[d].add(n)
    seen, todo = set(), [node]
    while todo:
        for child in children[todo.pop()]:
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return seen


# -- properties ---------------------------------------------------------------------------------------------------

@SETTINGS
@given(bodies)
def test_any_body_is_accepted_or_refused_cleanly(body: Any) -> None:
    outcome = verdict(body)
    if isinstance(outcome, Submission):
        check_submission(outcome)


@DAG_SETTINGS
@given(valid_dags(), st.booleans())
def test_valid_dags_are_accepted_in_any_order(dag: tuple[list[dict[str, Any]], dict[str, list[str]]], documented: bool) -> None:
    jobs, edges = dag
    body = {"executionPlan": {"jobs": jobs}} if documented else {"jobs": jobs}
    outcome = verdict(body)
    assert isinstance(outcome, Submission), getattr(outcome, "issues", outcome)
    check_submission(outcome)
    assert {j.id: list(j.depends_on) for j in outcome.plan.jobs} == edges
    sinks = {n for n in edges} - {d for deps in edges.values() for d in deps}
    assert set(outcome.plan.root_job_ids) == sinks


@DAG_SETTINGS
@given(valid_dags(), st.data())
def test_a_back_edge_is_always_a_cycle_error(dag: tuple[list[dict[str, Any]], dict[str, list[str]]], data: st.DataObject) -> None:
    jobs, edges = dag
    merges = [j for j in jobs if j["type"] == "merge" and _descendants(edges, j["id"])]
    assume(merges)
    target = data.draw(st.sampled_from(merges))
    back = data.draw(st.sampled_from(sorted(_descendants(edges, target["id"]))))
    target["dependsOn"] = [*target["dependsOn"], back]  # the merge now also depends on its own descendant
    new_edges = {j["id"]: list(j["dependsOn"]) for j in jobs}
    outcome = verdict({"jobs": jobs})
    assert isinstance(outcome, PlanValidationError), outcome
    cycles = [i for i in outcome.issues if i.message.startswith("dependency cycle: ")]
    assert cycles, outcome.issues
    path = cycles[0].message.removeprefix("dependency cycle: ").split(" -> ")
    assert len(path) >= 3 and path[0] == path[-1]
    assert all(b in new_edges[a] for a, b in zip(path, path[1:], strict=False))  # a real cycle, following dependencies


@DAG_SETTINGS
@given(valid_dags(max_jobs=12))
def test_a_self_dependency_is_refused(dag: tuple[list[dict[str, Any]], dict[str, list[str]]]) -> None:
    jobs, _ = dag
    merges = [j for j in jobs if j["type"] == "merge"]
    assume(merges)
    merges[0]["dependsOn"].append(merges[0]["id"])
    outcome = verdict({"jobs": jobs})
    assert isinstance(outcome, PlanValidationError)
    assert any("cannot depend on itself" in i.message for i in outcome.issues)


def _rename(body: Any, mapping: dict[str, str]) -> Any:
    """Rename job IDs wherever they are used: ids, dependsOn, rootJobIds."""
    def jobs(items: Any) -> Any:
        if not isinstance(items, list):
            return items
        out = []
        for j in items:
            if isinstance(j, dict):
                j = dict(j)
                if isinstance(j.get("id"), str):
                    j["id"] = mapping.get(j["id"], j["id"])
                if isinstance(j.get("dependsOn"), list):
                    j["dependsOn"] = [mapping.get(d, d) if isinstance(d, str) else d for d in j["dependsOn"]]
            out.append(j)
        return out

    def roots(items: Any) -> Any:
        return [mapping.get(r, r) if isinstance(r, str) else r for r in items] if isinstance(items, list) else items

    body = dict(body)
    if "jobs" in body:
        body["jobs"] = jobs(body["jobs"])
    if "rootJobIds" in body:
        body["rootJobIds"] = roots(body["rootJobIds"])
    if isinstance(body.get("executionPlan"), dict):
        ep = dict(body["executionPlan"])
        ep["jobs"] = jobs(ep.get("jobs"))
        if "rootJobIds" in ep:
            ep["rootJobIds"] = roots(ep["rootJobIds"])
        body["executionPlan"] = ep
    return body


def _names(body: Any) -> set[str]:
    found: set[str] = set()
    ep = body.get("executionPlan") if isinstance(body.get("executionPlan"), dict) else {}
    for source in (body, ep):
        for j in source.get("jobs") or [] if isinstance(source.get("jobs"), list) else []:
            if isinstance(j, dict):
                found.update(x for x in [j.get("id"), *(j.get("dependsOn") or [])] if isinstance(x, str))
        found.update(r for r in (source.get("rootJobIds") or []) if isinstance(r, str))
    return {n for n in found if ID_RE.fullmatch(n)}


@SETTINGS
@given(shape_clean | shape_b | shape_a | valid_dags().map(lambda d: {"jobs": d[0]}), st.randoms(use_true_random=False))
def test_renaming_ids_does_not_change_the_verdict(body: dict[str, Any], rnd: Any) -> None:
    names = sorted(_names(body))
    fresh = [f"renamed-{n}" for n in range(len(names))]
    rnd.shuffle(fresh)
    renamed = _rename(body, dict(zip(names, fresh, strict=True)))
    before, after = verdict(body), verdict(renamed)
    assert type(before) is type(after), (before, after)
    if isinstance(before, Submission):
        assert isinstance(after, Submission)
        assert [j.operation for j in before.plan.jobs] == [j.operation for j in after.plan.jobs]
        assert [dict(j.params) for j in before.plan.jobs] == [dict(j.params) for j in after.plan.jobs]
        assert [len(j.depends_on) for j in before.plan.jobs] == [len(j.depends_on) for j in after.plan.jobs]
    elif isinstance(before, PlanValidationError):
        assert [i.field for i in before.issues] == [i.field for i in after.issues]  # type: ignore[union-attr]
    else:
        assert [e["loc"] for e in before.errors()] == [e["loc"] for e in after.errors()]  # type: ignore[union-attr]


@SETTINGS
@given(st.text(max_size=300), st.sampled_from(["prompt", "subtitle"]))
def test_any_text_is_data(text: str, where: str) -> None:
    """Text never breaks validation: it is accepted when it has a visible character, and kept as given;
    the only characters refused are the ones no database stores (NUL, lone surrogates), by name."""
    if where == "prompt":
        body = {"jobs": [{"id": "g", "type": "generate", "params": {"prompt": text}}]}
    else:
        body = {"jobs": [{"id": "g", "type": "generate", "params": {"prompt": "p"}},
                         {"id": "s", "type": "addSubtitles", "params": {"text": text}, "dependsOn": ["g"]}]}
    outcome = verdict(body)
    unstorable = "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text)
    if unstorable:
        assert isinstance(outcome, PlanValidationError), outcome
        assert any(i.field.endswith("prompt" if where == "prompt" else "text") for i in outcome.issues)
        return
    if any(c.isalnum() for c in text):
        assert isinstance(outcome, Submission), getattr(outcome, "issues", outcome)
        stored = outcome.plan.jobs[-1].params["prompt" if where == "prompt" else "text"]
        assert stored and stored in text
