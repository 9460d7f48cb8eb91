"""Turn a parsed request into a :class:`Submission`, collecting every problem with its field path.

Beyond the shape of each job, this is where the limits of :mod:`vidassets.plan.bounds` that span
fields or jobs are checked (dependencies per job, inputs per merge, merged durations, transitions
against clip lengths), and where the server's URL policy meets the plan: with the SSRF guard on,
a URL whose host is a literal private address is refused here, naming its field.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from vidassets.net.guard import AddressPolicy
from vidassets.plan import bounds, dag
from vidassets.plan.errors import PlanIssue, PlanValidationError, loc_to_field
from vidassets.plan.estimates import check_durations
from vidassets.plan.media_inputs import check_media_inputs, check_vendor_jobs, server_key_providers
from vidassets.plan.models import JobIn, Plan, PlanCreate, PlanJob, Submission, unsafe_json_values
from vidassets.plan.native import lift_native_generate
from vidassets.plan.operations import Operation
from vidassets.plan.params import KEY_PROVIDERS, PARAMS_MODELS, URL_POLICY, check_url_host, flatten_generate
from vidassets.plan.vendor_inputs import vendor_input_issues
from vidassets.plan.wire_current import jobs_in_our_terms

_SINGLE_INPUT = (Operation.REFRAME, Operation.LIP_SYNC, Operation.ADD_SUBTITLES, Operation.REMOVE_BACKGROUND)


def normalize_request(
    body: PlanCreate,
    *,
    max_jobs: int = 200,
    max_text_chars: int = 20_000,
    max_duration_s: float = bounds.MAX_CLIP_S,
    max_merged_s: float = bounds.MAX_MERGED_S,
    url_policy: AddressPolicy | None = None,
    external_job_ids: Iterable[str] = (),
    base_output_job: str | None = None,
) -> Submission:
    """Validate meaning: operations, per-operation params, IDs, dependencies, acyclicity, roots,
    and the bounds on sizes, counts and durations.

    ``external_job_ids`` are the base execution's job IDs, which a variant may depend on without
    redefining them. ``base_output_job`` is the base's final job: a variant's single-input job
    with neither an input job nor a URL builds on it (the SDK's "dependent execution request":
    only the new jobs and ``baseExecutionId``). ``url_policy`` is the server's SSRF policy
    (``None``: only cloud metadata endpoints are refused at submit, as they are under every policy).
    """
    jobs_in, prefix = _checked_body(body, max_jobs)
    provider_keys = _provider_keys(body)
    # Today's TypeScript SDK's dialect in our terms; ``paths``: where each job came from.
    ours = jobs_in_our_terms(body, jobs_in, prefix, provider_keys)
    if ours.issues:
        raise PlanValidationError(ours.issues)
    jobs_in, paths = ours.jobs, ours.paths
    issues: list[PlanIssue] = []
    context = {URL_POLICY: url_policy}
    jobs, job_keys, seen = _parse_jobs(jobs_in, paths, issues, max_text_chars, max_duration_s, context,
                                       base_output_job)
    ids = set(seen)
    _check_dependencies(jobs_in, paths, ids, set(external_job_ids), issues)
    where_of = {job.id: paths[seen[job.id]] for job in jobs}
    for job in jobs:
        _check_inputs(job, where_of[job.id], issues)
    if not issues:
        check_media_inputs(jobs, where_of, issues)
        check_vendor_jobs(jobs, where_of, provider_keys, job_keys, _vendor_keys(jobs), issues)
    _check_roots(body, ids, max_jobs, issues)
    _check_webhook(body, url_policy, issues)
    edges = {job.id: job.depends_on for job in jobs}
    if not issues:
        cycle = dag.find_cycle(edges)
        if cycle:
            issues.append(PlanIssue(prefix, "dependency cycle: " + " -> ".join(cycle), cycle[0]))
    if not issues:
        issues += check_durations(jobs, dag.topological_order(edges), where_of, max_merged_s=max_merged_s)
    if issues:
        raise PlanValidationError(issues)
    return Submission(
        plan=Plan(jobs=tuple(jobs), root_job_ids=tuple(body.root_job_ids or dag.sinks(edges)),
                  render_preset=body.render_preset),
        base_execution_id=body.base_execution_id,
        webhook=body.webhook_config,
        provider_keys=provider_keys,
        job_keys=job_keys,
        wire_format=body.wire_format,
    )


def _checked_body(body: PlanCreate, max_jobs: int) -> tuple[list[JobIn], str]:
    """The jobs and their field prefix; values that cannot be stored, or no or too many jobs, end
    validation at once (nothing else is worth reporting then)."""
    unsafe = unsafe_json_values(body.model_dump(exclude_none=True))
    if unsafe:
        raise PlanValidationError([PlanIssue(field, message) for field, message in unsafe])
    jobs_in = body.job_list
    prefix = "executionPlan.jobs" if body.executionPlan is not None else "jobs"
    if not jobs_in:
        raise PlanValidationError([PlanIssue(prefix, "a plan needs at least one job")])
    if len(jobs_in) > max_jobs:
        raise PlanValidationError([PlanIssue(prefix, f"at most {max_jobs} jobs per plan (got {len(jobs_in)})")])
    return jobs_in, prefix


def _parse_jobs(jobs_in: list[JobIn], paths: list[str], issues: list[PlanIssue], max_text_chars: int,
                max_duration_s: float, context: Mapping[str, Any],
                base_output_job: str | None) -> tuple[list[PlanJob], dict[str, str], dict[str, int]]:
    """Each job's operation and params; returns the jobs, their per-job keys and each id's index."""
    seen: dict[str, int] = {}
    jobs: list[PlanJob] = []
    job_keys: dict[str, str] = {}
    for index, job_in in enumerate(jobs_in):
        where = paths[index]
        if job_in.id in seen:
            issues.append(PlanIssue(f"{where}.id", f"duplicate job id {job_in.id!r} (also at index {seen[job_in.id]})",
                                    job_in.id))
            continue
        seen[job_in.id] = index
        if len(job_in.dependsOn) > bounds.MAX_DEPENDS_ON:
            issues.append(PlanIssue(f"{where}.dependsOn", f"at most {bounds.MAX_DEPENDS_ON} dependencies per job "
                                                          f"(got {len(job_in.dependsOn)})", job_in.id))
        parsed = _parse_job(job_in, where, issues, max_text_chars, max_duration_s, context)
        if parsed is None:
            continue
        job, key = parsed
        if base_output_job and job.operation in _SINGLE_INPUT and not job.depends_on and not job.params.get("url"):
            job = dataclasses.replace(job, depends_on=(base_output_job,))
        jobs.append(job)
        if key:
            job_keys[job.id] = key
    return jobs, job_keys, seen


def _check_dependencies(jobs_in: list[JobIn], paths: list[str], ids: set[str], external: set[str],
                        issues: list[PlanIssue]) -> None:
    """Every dependency names a job of the plan (or of the base), not itself, once."""
    for index, job_in in enumerate(jobs_in):
        if len(job_in.dependsOn) > bounds.MAX_DEPENDS_ON:
            continue  # reported once already, not once per entry
        for dep_index, dep in enumerate(job_in.dependsOn):
            where = f"{paths[index]}.dependsOn[{dep_index}]"
            if dep == job_in.id:
                issues.append(PlanIssue(where, "a job cannot depend on itself", job_in.id))
            elif dep not in ids and dep not in external:
                issues.append(PlanIssue(where, f"unknown job {dep!r}", job_in.id))
        if len(set(job_in.dependsOn)) != len(job_in.dependsOn) and _op_or_none(job_in) is not Operation.MERGE:
            issues.append(PlanIssue(f"{paths[index]}.dependsOn", "duplicate dependency", job_in.id))


def _check_roots(body: PlanCreate, ids: set[str], max_jobs: int, issues: list[PlanIssue]) -> None:
    roots_in = body.root_job_ids
    root_field = "executionPlan.rootJobIds" if body.executionPlan is not None else "rootJobIds"
    if roots_in is not None and len(roots_in) > max_jobs:
        issues.append(PlanIssue(root_field, f"at most {max_jobs} root jobs (got {len(roots_in)})"))
    elif roots_in is not None:
        for i, root in enumerate(roots_in):
            if root not in ids:
                issues.append(PlanIssue(f"{root_field}[{i}]", f"unknown job {root!r}"))


def _provider_keys(body: PlanCreate) -> dict[str, str]:
    """``providerApiKeys`` by canonical provider name; an unknown provider is refused."""
    keys = {}
    where, given = body.provider_api_keys
    for name, key in given.items():
        canonical = "google-cloud" if name in ("google", "vertex", "googleCloud") else name
        if canonical not in KEY_PROVIDERS:
            raise PlanValidationError([PlanIssue(f"{where}.{name}", f"unknown provider {name!r}")])
        keys[canonical] = key
    return keys


def _op_or_none(job_in: JobIn) -> Operation | None:
    try:
        return Operation.parse(job_in.operation or job_in.type or "")
    except ValueError:
        return None


def _parse_job(
    job_in: JobIn, where: str, issues: list[PlanIssue], max_text_chars: int, max_duration_s: float,
    context: Mapping[str, Any],
) -> tuple[PlanJob, str | None] | None:
    names = [n for n in (job_in.operation, job_in.type) if n]
    if not names:
        issues.append(PlanIssue(f"{where}.operation", "missing operation (or type)", job_in.id))
        return None
    try:
        ops = {Operation.parse(n) for n in names}
    except ValueError as exc:
        issues.append(PlanIssue(f"{where}.operation", str(exc), job_in.id))
        return None
    if len(ops) > 1:
        issues.append(PlanIssue(f"{where}.type", "operation and type disagree", job_in.id))
        return None
    op = ops.pop()
    raw: Mapping[str, Any] = job_in.params
    origins: Mapping[str, str] = {}
    if op is Operation.GENERATE:
        lifted = lift_native_generate(flatten_generate(dict(raw)))
        for field, message in lifted.problems:
            issues.append(PlanIssue(f"{where}.params.{field}", message, job_in.id))
        if lifted.problems:
            return None
        raw, origins = lifted.params, lifted.origins
    try:
        params = PARAMS_MODELS[op.value].model_validate(raw, context=dict(context))
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = list(err["loc"])
            if loc and loc[0] in origins:  # a value the client sent under the model's own name
                loc[0] = origins[str(loc[0])]
            field = loc_to_field(["params", *loc]) if loc else "params"
            issues.append(PlanIssue(f"{where}.{field}", _clean(err["msg"]), job_in.id))
        return None
    stored = params.stored()
    for key, value in stored.items():
        if isinstance(value, str) and len(value) > max_text_chars:
            issues.append(PlanIssue(f"{where}.params.{key}", f"longer than {max_text_chars} characters", job_in.id))
            return None
    duration = stored.get("duration")
    if isinstance(duration, (int, float)) and duration > max_duration_s:
        field = origins.get("duration", "duration")
        issues.append(PlanIssue(f"{where}.params.{field}", f"must be at most {max_duration_s:g} seconds", job_in.id))
        return None
    refused = vendor_input_issues(op.value, params, where, job_in.id, origins)  # what the model cannot take
    if refused:
        issues.extend(refused)
        return None
    return PlanJob(id=job_in.id, operation=op, params=stored, depends_on=tuple(job_in.dependsOn)), params.secret()


def _check_inputs(job: PlanJob, where: str, issues: list[PlanIssue]) -> None:
    n = len(job.depends_on)
    if n > bounds.MAX_DEPENDS_ON:
        return  # already reported
    if job.operation is Operation.GENERATE and n and not (job.params.get("imageInput") or job.params.get("audioInput")):
        issues.append(PlanIssue(f"{where}.dependsOn", "generate takes no input jobs (except an image or speech job "
                                                      "named in params.imageInput / params.audioInput)", job.id))
    elif job.operation is Operation.MERGE and n < 1:
        issues.append(PlanIssue(f"{where}.dependsOn", "merge needs at least one input job", job.id))
    elif job.operation is Operation.MERGE and n > bounds.MAX_MERGE_INPUTS:
        issues.append(PlanIssue(f"{where}.dependsOn", f"a merge takes at most {bounds.MAX_MERGE_INPUTS} inputs "
                                                      f"(got {n})", job.id))
    elif job.operation in _SINGLE_INPUT:
        has_url = bool(job.params.get("url"))
        if n > 1:
            issues.append(PlanIssue(f"{where}.dependsOn", f"{job.operation.value} takes exactly one input job", job.id))
        elif n == 0 and not has_url:
            issues.append(PlanIssue(f"{where}.dependsOn",
                                    f"{job.operation.value} needs an input job (dependsOn) or params.url", job.id))
        elif n == 1 and has_url:
            issues.append(PlanIssue(f"{where}.params.url", "give either an input job or params.url, not both", job.id))


def _check_webhook(body: PlanCreate, policy: AddressPolicy | None, issues: list[PlanIssue]) -> None:
    """Webhook URLs were parsed without the server's policy (only metadata hosts were refused
    then): apply it now, so a literal private address fails at submit, not at delivery."""
    found = body.webhook_source
    if found is None or policy is None:
        return
    field, hook = found
    try:
        check_url_host(hook.url, policy)
    except ValueError as exc:
        issues.append(PlanIssue(field, str(exc)))


def _vendor_keys(jobs: list[PlanJob]) -> tuple[str, ...]:
    """The server's own vendor keys, read only when a plan has a vendor-only job."""
    return server_key_providers() if any(job.operation.provider_only for job in jobs) else ()


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")
