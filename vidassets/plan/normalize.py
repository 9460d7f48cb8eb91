"""Turn a parsed request into a :class:`Submission`, collecting every problem with its field path."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from pydantic import ValidationError

from vidassets.plan import dag
from vidassets.plan.errors import PlanIssue, PlanValidationError, loc_to_field
from vidassets.plan.models import JobIn, Plan, PlanCreate, PlanJob, Submission, unsafe_json_values
from vidassets.plan.operations import Operation
from vidassets.plan.params import KEY_PROVIDERS, PARAMS_MODELS, flatten_generate

_SINGLE_INPUT = (Operation.REFRAME, Operation.LIP_SYNC, Operation.ADD_SUBTITLES)


def normalize_request(
    body: PlanCreate,
    *,
    max_jobs: int = 200,
    max_text_chars: int = 20_000,
    max_duration_s: float = 600.0,
    external_job_ids: Iterable[str] = (),
) -> Submission:
    """Validate meaning: operations, per-operation params, IDs, dependencies, acyclicity, roots.

    ``external_job_ids`` are the base execution's job IDs, which a variant may depend on without
    redefining them.
    """
    unsafe = unsafe_json_values(body.model_dump(exclude_none=True))
    if unsafe:
        raise PlanValidationError([PlanIssue(field, message) for field, message in unsafe])
    jobs_in = body.job_list
    prefix = "executionPlan.jobs" if body.executionPlan is not None else "jobs"
    issues: list[PlanIssue] = []
    if not jobs_in:
        raise PlanValidationError([PlanIssue(prefix, "a plan needs at least one job")])
    if len(jobs_in) > max_jobs:
        raise PlanValidationError([PlanIssue(prefix, f"at most {max_jobs} jobs per plan (got {len(jobs_in)})")])

    external = set(external_job_ids)
    seen: dict[str, int] = {}
    jobs: list[PlanJob] = []
    job_keys: dict[str, str] = {}
    for index, job_in in enumerate(jobs_in):
        where = f"{prefix}[{index}]"
        if job_in.id in seen:
            issues.append(PlanIssue(f"{where}.id", f"duplicate job id {job_in.id!r} (also at index {seen[job_in.id]})", job_in.id))
            continue
        seen[job_in.id] = index
        parsed = _parse_job(job_in, where, issues, max_text_chars, max_duration_s)
        if parsed is None:
            continue
        job, key = parsed
        jobs.append(job)
        if key:
            job_keys[job.id] = key

    ids = set(seen)
    for index, job_in in enumerate(jobs_in):
        for dep_index, dep in enumerate(job_in.dependsOn):
            if dep == job_in.id:
                issues.append(PlanIssue(f"{prefix}[{index}].dependsOn[{dep_index}]", "a job cannot depend on itself", job_in.id))
            elif dep not in ids and dep not in external:
                issues.append(PlanIssue(f"{prefix}[{index}].dependsOn[{dep_index}]", f"unknown job {dep!r}", job_in.id))
        if len(set(job_in.dependsOn)) != len(job_in.dependsOn) and _op_or_none(job_in) is not Operation.MERGE:
            issues.append(PlanIssue(f"{prefix}[{index}].dependsOn", "duplicate dependency", job_in.id))

    for index, job in enumerate(jobs):
        where = f"{prefix}[{seen[job.id]}]"
        _check_inputs(job, where, issues)

    edges = {job.id: job.depends_on for job in jobs}
    if not issues:
        cycle = dag.find_cycle(edges)
        if cycle:
            issues.append(PlanIssue(prefix, "dependency cycle: " + " -> ".join(cycle), cycle[0]))

    roots_in = body.root_job_ids
    root_field = "executionPlan.rootJobIds" if body.executionPlan is not None else "rootJobIds"
    if roots_in is not None:
        for i, root in enumerate(roots_in):
            if root not in ids:
                issues.append(PlanIssue(f"{root_field}[{i}]", f"unknown job {root!r}"))
    if issues:
        raise PlanValidationError(issues)

    roots = tuple(roots_in) if roots_in else tuple(dag.sinks(edges))
    provider_keys = {}
    for name, key in (body.providerApiKeys or {}).items():
        canonical = "google-cloud" if name in ("google", "vertex", "googleCloud") else name
        if canonical not in KEY_PROVIDERS:
            raise PlanValidationError([PlanIssue(f"providerApiKeys.{name}", f"unknown provider {name!r}")])
        provider_keys[canonical] = key
    return Submission(
        plan=Plan(jobs=tuple(jobs), root_job_ids=roots),
        base_execution_id=body.base_execution_id,
        webhook=body.webhook_config,
        provider_keys=provider_keys,
        job_keys=job_keys,
    )


def _op_or_none(job_in: JobIn) -> Operation | None:
    try:
        return Operation.parse(job_in.operation or job_in.type or "")
    except ValueError:
        return None


def _parse_job(
    job_in: JobIn, where: str, issues: list[PlanIssue], max_text_chars: int, max_duration_s: float
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
    if op is Operation.GENERATE:
        raw = flatten_generate(dict(raw))
    try:
        params = PARAMS_MODELS[op.value].model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            loc = loc_to_field(["params", *err["loc"]]) if err["loc"] else "params"
            issues.append(PlanIssue(f"{where}.{loc}", _clean(err["msg"]), job_in.id))
        return None
    stored = params.stored()
    for key, value in stored.items():
        if isinstance(value, str) and len(value) > max_text_chars:
            issues.append(PlanIssue(f"{where}.params.{key}", f"longer than {max_text_chars} characters", job_in.id))
            return None
    duration = stored.get("duration")
    if isinstance(duration, (int, float)) and duration > max_duration_s:
        issues.append(PlanIssue(f"{where}.params.duration", f"must be at most {max_duration_s:g} seconds", job_in.id))
        return None
    return PlanJob(id=job_in.id, operation=op, params=stored, depends_on=tuple(job_in.dependsOn)), params.secret()


def _check_inputs(job: PlanJob, where: str, issues: list[PlanIssue]) -> None:
    n = len(job.depends_on)
    if job.operation is Operation.GENERATE and n:
        issues.append(PlanIssue(f"{where}.dependsOn", "generate takes no input jobs", job.id))
    elif job.operation is Operation.MERGE and n < 1:
        issues.append(PlanIssue(f"{where}.dependsOn", "merge needs at least one input job", job.id))
    elif job.operation in _SINGLE_INPUT:
        has_url = bool(job.params.get("url"))
        if n > 1:
            issues.append(PlanIssue(f"{where}.dependsOn", f"{job.operation.value} takes exactly one input job", job.id))
        elif n == 0 and not has_url:
            issues.append(PlanIssue(f"{where}.dependsOn", f"{job.operation.value} needs an input job (dependsOn) or params.url", job.id))
        elif n == 1 and has_url:
            issues.append(PlanIssue(f"{where}.params.url", "give either an input job or params.url, not both", job.id))


def _clean(message: str) -> str:
    return message.removeprefix("Value error, ")
