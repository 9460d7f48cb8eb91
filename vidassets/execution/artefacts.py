"""The artefact step: what happens to a job's output file once an operation has made it.

Probe it, decode-check media made outside our ffmpeg, store it content-addressed, make a
contact-sheet preview and build the stored result (with the asset checks evaluated on it). The
result is what every later consumer reads: the API's status, the Dagster materialisation,
staleness checks and the result cache.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from math import gcd
from pathlib import Path
from typing import Any

from vidassets import media
from vidassets.execution.checks import check_output
from vidassets.execution.operations import JobOutput
from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind
from vidassets.plan.params import ASPECT_RATIOS
from vidassets.storage.artefacts import ArtefactStore, artefact_key, file_digest
from vidassets.storage.models import ExecutionJobRow

log = logging.getLogger(__name__)



class ArtefactStep:
    def __init__(self, store: ArtefactStore, *, contact_sheets: bool = True):
        self.store = store
        self.contact_sheets = contact_sheets

    def record(self, execution_id: str, job: ExecutionJobRow, output: JobOutput,
               inputs: Sequence[Mapping[str, Any]], workdir: Path) -> dict[str, Any]:
        """Store ``output`` and return the job's result. A fused render reports what its input
        jobs' artefacts are (``output.inputs``): the checks and the lineage compare against those."""
        inputs = output.inputs if output.inputs is not None else inputs
        info = media.probe(output.path)
        # Media from outside (imports, provider outputs) is decoded frame by frame; our own
        # ffmpeg renders are covered by the encoder's success and the probe's tail check.
        decodable = decode_check(info) if output.external else True
        digest = file_digest(output.path)
        key = artefact_key(execution_id, job.job_id, job.kind, digest, output.path.suffix or ".mp4")
        stored = self.store.put_file(output.path, key, digest=digest)
        result: dict[str, Any] = {
            "key": stored.key, "uri": stored.uri, "digest": stored.digest, "size": stored.size,
            "duration": round(info.duration, 3), "width": info.width, "height": info.height,
            "fps": round(info.fps, 3), "hasAudio": info.has_audio, "videoCodec": info.video_codec,
            "aspectRatio": aspect_name(info.width, info.height),
            "operation": job.operation, "kind": job.kind, "provider": output.provider, "model": output.model,
            "details": dict(output.details),
            # What this artefact was made from: staleness (renderer bumped, input re-rendered) is
            # decided by comparing these with the current renderer and the inputs' current digests.
            "rendererVersion": RENDERER_VERSIONS[AssetKind(job.kind)],
            # A fused render made before its input jobs landed knows no digests yet: none are recorded
            # (nothing looks stale meanwhile) until the executor stamps them (see PlanExecutor).
            "inputDigests": ([str(r.get("digest")) for r in inputs]
                             if all(r.get("digest") is not None for r in inputs) else None),
            "decodable": decodable,
            "sheetKey": self._contact_sheet(info, key, workdir),
        }
        result["checks"] = [c.as_dict() for c in check_output(job.operation, job.params, result, inputs)]
        return result

    def _contact_sheet(self, video: media.MediaInfo, key: str, workdir: Path) -> str | None:
        """A preview strip stored beside the artefact; a preview is never worth failing a job for."""
        if not self.contact_sheets:
            return None
        try:
            sheet = media.contact_sheet(video.path, workdir / "sheet.jpg", info=video)
            sheet_key = key.rsplit(".", 1)[0] + "-sheet.jpg"
            self.store.put_file(sheet, sheet_key)
            return sheet_key
        except Exception as exc:  # noqa: BLE001
            log.warning("contact sheet for %s failed: %s", key, exc)
            return None


def decode_check(info: media.MediaInfo) -> bool | str:
    """True when every frame decodes; otherwise ffmpeg's reason (reported by the asset check)."""
    try:
        media.run_ffmpeg(media.decode_check_command(info), timeout=max(60.0, info.duration * 4),
                         expected_duration=info.duration)
    except media.MediaError as exc:
        return str(exc)[:500]
    return True


def aspect_name(width: int, height: int) -> str:
    """``16:9`` and the other named ratios within 2 %, else the reduced fraction."""
    if not width or not height:
        return "unknown"
    ratio = width / height
    for name in ASPECT_RATIOS:
        a, b = (int(x) for x in name.split(":"))
        if abs(ratio - a / b) < 0.02:
            return name
    g = gcd(width, height)
    return f"{width // g}:{height // g}"
