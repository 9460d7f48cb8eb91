"""End to end, as a user runs it: real uvicorn, real Dagster (webserver + daemon + code server),
real ffmpeg, HTTP in and out. One stack per module on the embedded default."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import embedded_settings, settings_env
from tests.helpers import five_op_plan, running_stack, stack_client
from vidassets import media
from vidassets.plan import PlanCreate
from vidassets.stack import Stack, stack_env

pytestmark = pytest.mark.e2e


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("stack") / "data"
    api_port, dagster_port = _port(), _port()
    # The re-render schedule (stopped unless a test starts it) ticks every minute here.
    settings = embedded_settings(data, public_base_url=f"http://127.0.0.1:{api_port}",
                                 dagster_graphql_url=f"http://127.0.0.1:{dagster_port}/graphql", launch_grace_s=2.0,
                                 rerender_cron="* * * * *")
    env = stack_env(data, settings_env(settings), api_port=api_port, dagster_port=dagster_port)
    with running_stack(settings, env, api_port=api_port, dagster_port=dagster_port, tenant="e2e",
                       log_dir=data / "logs") as s:
        yield s


@pytest.fixture(scope="module")
def api(stack: Stack) -> Iterator[httpx.Client]:
    """An HTTP client for the real API, authenticated like the SDK (Bearer key)."""
    with stack_client(stack) as client:
        yield client


def wait_terminal(api: httpx.Client, eid: str, timeout_s: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    seen: list[str] = []
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = api.get(f"/api/execute/{eid}/status").json()
        seen.append(status["status"])
        # The result lands first (``completed``); intermediates still rendering are in ``landing``.
        if status["status"] in ("completed", "failed", "cancelled") and not status.get("landing"):
            status["_seen"] = seen
            return status
        time.sleep(0.5)
    raise AssertionError(f"execution {eid} not finished in {timeout_s}s; last: {status}")


def wait_rerendered(services, eid: str, job_id: str, timeout_s: float = 180) -> None:  # type: ignore[no-untyped-def]
    """Until the job's output carries the current renderer version (a backfill re-rendered it)."""
    from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = next(j for j in services.repo.jobs(eid) if j.job_id == job_id)
        current = RENDERER_VERSIONS[AssetKind(job.kind)]
        if job.status == "completed" and job.result.get("rendererVersion") == current:
            return
        time.sleep(1)
    raise AssertionError(f"the backfill did not re-render {eid}/{job_id}")


def graphql(stack: Stack, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    resp = httpx.post(f"{stack.dagster_url}/graphql", json={"query": query, "variables": variables or {}}, timeout=30)
    resp.raise_for_status()
    return resp.json()["data"]


def test_sample_plan_over_http_gives_a_playable_vertical_video(stack: Stack, api: httpx.Client, media_url: str,
                                                               tmp_path: Path) -> None:
    resp = api.post("/api/execute", json=five_op_plan(f"{media_url}/voice.m4a", size="640x360", duration=1.5))
    assert resp.status_code == 202, resp.text
    eid = resp.json()["executionId"]
    status = wait_terminal(api, eid)
    assert status["status"] == "completed", status
    assert "processing" in status["_seen"] or status["_seen"][0] == "completed"
    assert status["progress"] == 100 and status["completedJobs"] == status["totalJobs"] == 6
    assert status["runId"]

    video = tmp_path / "out.mp4"
    download = httpx.get(status["result"]["url"], timeout=30)
    assert download.status_code == 200 and download.headers["content-type"] == "video/mp4"
    video.write_bytes(download.content)
    info = media.probe(video)
    assert info.height > info.width and abs(info.width / info.height - 9 / 16) < 0.02
    assert info.has_audio and info.video_codec == "h264"
    assert abs(info.duration - (1.5 + 1.5 - 0.25)) <= 0.1
    assert status["result"]["aspectRatio"] == "9:16"

    # The five assets carry this execution's partition and metadata in Dagster. The API says
    # "landed" once every artefact is stored; the run records its last materialisations (delivered
    # comes after the kinds it is made of) a moment later, so wait for them.
    partition = f'"{eid}"'
    deadline = time.monotonic() + 60
    while True:
        data = graphql(stack, """
          query($keys: [AssetKeyInput!]) { assetNodes(assetKeys: $keys) {
            assetKey { path }
            assetMaterializations(partitions: [""" + partition + """]) { partition runId metadataEntries { label } }
          } }""", {"keys": [{"path": [k]} for k in
                                   ["generated_clips", "merged_cut", "reframed", "lipsynced", "subtitled", "delivered"]]})
        nodes = {n["assetKey"]["path"][0]: n for n in data["assetNodes"]}
        if all(n["assetMaterializations"] for n in nodes.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(nodes) == 6
    for key, node in nodes.items():
        mats = node["assetMaterializations"]
        assert mats and mats[0]["partition"] == eid and mats[0]["runId"] == status["runId"], key
        labels = {m["label"] for m in mats[0]["metadataEntries"]}
        assert {"job_ids", "uri", "duration_s", "resolution", "size_bytes", "provider"} <= labels


def test_sdk_wire_format_and_an_invalid_plan(api: httpx.Client) -> None:
    plan = {"jobs": [{"id": "clip", "type": "generate",
                      "params": {"provider": "local", "modelId": "any", "unified": True, "prompt": "a cat",
                                 "duration": 1, "resolution": "320x180", "aspectRatio": "16:9", "seed": 5}}]}
    resp = api.post("/api/execute", json=plan)
    assert resp.status_code == 202
    status = wait_terminal(api, resp.json()["executionId"])
    assert status["status"] == "completed" and status["result"]["url"]
    assert {"progress", "totalJobs", "completedJobs", "currentJob", "jobs"} <= status.keys()
    bad = api.post("/api/execute", json={"jobs": [{"id": "x", "type": "reframe", "params": {}}]})
    assert httpx.post(str(api.base_url.join("/api/execute")), json=plan).status_code == 401  # no key
    assert bad.status_code == 422 and bad.json()["details"][0]["field"].startswith("jobs[0]")


def test_committed_but_unlaunched_execution_is_launched_by_the_sensor(stack: Stack, api: httpx.Client) -> None:
    """What happens when the API dies between commit and launch: the sensor launches it."""
    from vidassets.runs.submit import accept
    from vidassets.services import build_services
    from vidassets.settings import Settings

    settings = Settings(data_dir=Path(stack.env["VIDASSETS_DATA_DIR"]))
    services = build_services(settings)
    body = PlanCreate.model_validate({"jobs": [{"id": "c", "type": "generate",
                                                "params": {"prompt": "late", "duration": 1, "resolution": "160x90"}}]})
    eid = accept(services, body, tenant_id="e2e").row.id  # committed, never launched
    status = wait_terminal(api, eid, timeout_s=120)
    assert status["status"] == "completed" and status["runId"]


def test_killed_run_worker_is_retried_and_resumes_without_redoing_jobs(stack: Stack, api: httpx.Client) -> None:
    import os
    import signal

    from vidassets.services import build_services
    from vidassets.settings import Settings

    jobs = [{"id": f"g{i}", "type": "generate", "params": {"prompt": f"clip {i}", "duration": 4,
                                                          "resolution": "1280x720", "seed": i}} for i in range(4)]
    jobs.append({"id": "cut", "type": "merge", "params": {}, "dependsOn": [j["id"] for j in jobs]})
    eid = api.post("/api/execute", json={"jobs": jobs}).json()["executionId"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = api.get(f"/api/execute/{eid}/status").json()
        done = [j["id"] for j in status["jobs"] if j["status"] == "completed"]
        if done and status["runId"] and any(j["status"] == "processing" for j in status["jobs"]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"never saw a half-finished execution: {status}")
    first_run = status["runId"]
    settings = Settings(data_dir=Path(stack.env["VIDASSETS_DATA_DIR"]))
    worker = build_services(settings).repo.get(eid, with_jobs=False).worker
    assert worker and worker.split(":")[0] == socket.gethostname()
    os.kill(int(worker.split(":")[1]), signal.SIGKILL)  # the run worker dies mid-job, as with kill -9 / OOM

    final = wait_terminal(api, eid, timeout_s=300)
    assert final["status"] == "completed", final
    assert final["runId"] != first_run  # a retry run finished it
    attempts = {j["id"]: j["attempts"] for j in final["jobs"]}
    for job_id in done:
        assert attempts[job_id] == 1, (job_id, attempts)  # finished before the crash: not redone


def test_rerender_endpoint_launches_a_backfill_that_rerenders_stale_outputs(stack: Stack, api: httpx.Client) -> None:
    from vidassets.services import build_services
    from vidassets.settings import Settings

    jobs = [{"id": "c", "type": "generate", "params": {"prompt": "again", "duration": 1, "resolution": "160x90"}},
            {"id": "s", "type": "addSubtitles", "params": {"text": "re-rendered"}, "dependsOn": ["c"]}]
    eid = api.post("/api/execute", json={"jobs": jobs}).json()["executionId"]
    assert wait_terminal(api, eid)["status"] == "completed"
    services = build_services(Settings(data_dir=Path(stack.env["VIDASSETS_DATA_DIR"])))
    sub = next(j for j in services.repo.jobs(eid) if j.job_id == "s")
    services.repo.job_completed(eid, "s", {**sub.result, "rendererVersion": "0"})  # made by an older renderer

    dry = api.post("/api/rerender", json={"kinds": ["subtitled"], "since": "1d", "dryRun": True}).json()
    assert eid in dry["executions"] and dry["backfills"] == []
    resp = api.post("/api/rerender", json={"kinds": ["subtitled"], "since": "1d"})
    assert resp.status_code == 202, resp.text
    assert len(resp.json()["backfills"]) == 1 and eid in resp.json()["executions"]
    wait_rerendered(services, eid, "s")
    attempts = {j.job_id: j.attempts for j in services.repo.jobs(eid)}
    assert attempts == {"c": 1, "s": 2}  # only the stale kind ran again
    assert api.get(f"/api/execute/{eid}/status").json()["status"] == "completed"


def test_the_python_sdk_against_the_real_stack(stack: Stack, media_url: str) -> None:
    from vidassets_sdk import compose, generate_video, media, merge

    cut = merge(generate_video(prompt="sdk one", duration=1, resolution="320x180"),
                media(f"{media_url}/clip.mp4"), transition="fade", transition_duration=0.25)
    final = cut.reframe("1:1").add_subtitles(text="made with the SDK")
    execution = compose(final).execute(api_url=f"{stack.api_url}/api/execute", api_key=stack.api_key)
    seen: list[float] = []
    status = execution.wait(timeout=240, poll_interval=0.5, on_progress=lambda s: seen.append(s.progress))
    assert status.status == "completed" and status.result is not None and status.result.url
    assert seen and seen[-1] == 100
    info = httpx.get(status.result.url, timeout=30)
    assert info.status_code == 200 and len(info.content) > 1000


def test_cancel_a_running_execution_over_http(api: httpx.Client) -> None:
    plan = {"jobs": [{"id": "long", "type": "generate", "params": {"prompt": "long", "duration": 120, "resolution": "1080p"}},
                     {"id": "after", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["long"]}]}
    eid = api.post("/api/execute", json=plan).json()["executionId"]
    deadline = time.monotonic() + 120
    while api.get(f"/api/execute/{eid}/status").json()["currentJob"] != "long":
        assert time.monotonic() < deadline, "never started"
        time.sleep(0.2)
    resp = api.post(f"/api/execute/{eid}/cancel")
    assert resp.status_code == 202
    final = wait_terminal(api, eid, timeout_s=60)
    # Submitted in the SDK's wire format: the SDK knows no "cancelled" and would poll forever,
    # so it reads "failed" with the code saying why.
    assert final["status"] == "failed" and final["errorCode"] == "cancelled" and final["error"]
    assert {j["id"]: j["status"] for j in final["jobs"]} == {"long": "failed", "after": "failed"}
    retried = api.post(f"/api/execute/{eid}/retry")
    assert retried.status_code == 202 and set(retried.json()["jobs"]) == {"long", "after"}
    assert api.post(f"/api/execute/{eid}/cancel").status_code == 202  # and cancel the retry too
    again = wait_terminal(api, eid, timeout_s=60)
    assert again["status"] == "failed" and again["errorCode"] == "cancelled"


_SCHEDULE = """
mutation($selector: ScheduleSelector!) {
  %s(scheduleSelector: $selector) {
    __typename
    ... on ScheduleStateResult { scheduleState { status } }
    ... on PythonError { message }
  }
}"""


def test_one_schedule_tick_rerenders_stale_outputs(stack: Stack, api: httpx.Client) -> None:
    """The re-render schedule, started in the running stack, ticks (every minute here); the run it
    requests re-renders only the stale kind of the stale execution."""
    from vidassets.contract import MODE_RERENDER, MODE_TAG, PARTITION_TAG, RERENDER_SCHEDULE_NAME, RERENDER_TAG
    from vidassets.services import build_services
    from vidassets.settings import Settings

    jobs = [{"id": "g", "type": "generate", "params": {"prompt": "scheduled", "duration": 1, "resolution": "160x90"}},
            {"id": "r", "type": "reframe", "params": {"aspectRatio": "1:1"}, "dependsOn": ["g"]}]
    eid = api.post("/api/execute", json={"jobs": jobs}).json()["executionId"]
    assert wait_terminal(api, eid)["status"] == "completed"
    services = build_services(Settings(data_dir=Path(stack.env["VIDASSETS_DATA_DIR"])))
    job = next(j for j in services.repo.jobs(eid) if j.job_id == "r")
    services.repo.job_completed(eid, "r", {**job.result, "rendererVersion": "0"})  # made by an older renderer

    selector = {"repositoryLocationName": "vidassets", "repositoryName": "__repository__",
                "scheduleName": RERENDER_SCHEDULE_NAME}
    started = graphql(stack, _SCHEDULE % "startSchedule", {"selector": selector})["startSchedule"]
    assert started["__typename"] == "ScheduleStateResult", started
    try:
        wait_rerendered(services, eid, "r")
    finally:
        reset = graphql(stack, _SCHEDULE % "resetSchedule", {"selector": selector})["resetSchedule"]
        assert reset == {"__typename": "ScheduleStateResult", "scheduleState": {"status": "STOPPED"}}
    assert {j.job_id: j.attempts for j in services.repo.jobs(eid)} == {"g": 1, "r": 2}
    runs = graphql(stack, """
      query($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs { results {
        tags { key value } assetSelection { path } } } } }""",
                   {"filter": {"tags": [{"key": PARTITION_TAG, "value": eid}]}})["runsOrError"]["results"]
    scheduled = [r for r in runs if {"key": "dagster/schedule_name", "value": RERENDER_SCHEDULE_NAME} in r["tags"]]
    assert len(scheduled) == 1 and scheduled[0]["assetSelection"] == [{"path": ["reframed"]}]
    tags = {t["key"]: t["value"] for t in scheduled[0]["tags"]}
    assert tags[MODE_TAG] == MODE_RERENDER and tags[RERENDER_TAG] == "schedule"


def _root_media(status: dict[str, Any], tmp_path: Path) -> dict[str, media.MediaInfo]:
    """Each root's output as the API hands it out, downloaded and probed."""
    out = {}
    for root, output in status["result"]["outputs"].items():
        path = tmp_path / f"{root}.mp4"
        path.write_bytes(httpx.get(output["url"], timeout=30).content)
        out[root] = media.probe(path)
    return out


@pytest.mark.parametrize("name", ["reframe-each-then-merge", "caption-then-voice", "merge-of-merges", "two-roots"])
def test_named_plan_shapes_complete_over_http(api: httpx.Client, media_url: str, name: str, tmp_path: Path) -> None:
    from tests.plan_shapes import named_shapes

    body = named_shapes(media_url)[name]
    resp = api.post("/api/execute", json=body)
    assert resp.status_code == 202, resp.text
    status = wait_terminal(api, resp.json()["executionId"])
    assert status["status"] == "completed", (name, status.get("error"))
    roots = body["executionPlan"]["rootJobIds"]
    assert set(roots) <= set(status["result"]["outputs"])
    assert all(info.duration > 0 for info in _root_media(status, tmp_path).values())


def test_random_plan_shapes_complete_over_http_with_the_media_they_imply(
        api: httpx.Client, media_url: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A sample of Hypothesis' random plans, end to end through the real API and Dagster."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.plan_shapes import Shape, assert_media_matches, media_plans

    @settings(max_examples=6, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        shape: Shape = data.draw(media_plans(media_url, max_ops=4), label="plan")
        resp = api.post("/api/execute", json=shape.body)
        assert resp.status_code == 202, resp.text
        status = wait_terminal(api, resp.json()["executionId"])
        assert status["status"] == "completed", (shape.describe(), status.get("error"))
        got = _root_media(status, tmp_path_factory.mktemp("shape"))
        for root, want in shape.expect.items():
            assert_media_matches(got[root], want, f"{shape.describe()} -> {root}")

    run()
