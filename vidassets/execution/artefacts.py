"""The artefact step: what happens to a job's output file once an operation has made it.

Probe it (is it a video, a still image or audio?), decode-check media made outside our ffmpeg,
store it content-addressed under its own suffix, make a preview (contact sheet, thumbnail or
waveform) and build the stored result (with the asset checks evaluated on it). The result is what
every later consumer reads: the API's status, the Dagster materialisation, staleness checks and
the result cache.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from math import gcd
from pathlib import Path
from typing import Any

from vidassets import media
from vidassets.execution.checks import check_output
from vidassets.execution.context import JobOutput
from vidassets.media.loudness import Loudness, measure_loudness
from vidassets.media.thumbs import still_preview, waveform
from vidassets.plan.operations import RENDERER_VERSIONS, AssetKind
from vidassets.plan.params import ASPECT_RATIOS
from vidassets.storage.artefacts import ArtefactStore, artefact_key, file_digest
from vidassets.storage.models import ExecutionJobRow

log = logging.getLogger(__name__)

#: Suffixes an artefact of each media type keeps as its own; anything else is named from its codec.
_OWN_SUFFIXES = {"image": (".png", ".jpg", ".jpeg", ".webp"), "audio": (".mp3", ".wav", ".m4a"), "video": (".mp4",)}
_IMAGE_SUFFIX_BY_CODEC = {"png": ".png", "mjpeg": ".jpg", "webp": ".webp"}
_AUDIO_SUFFIX_BY_CODEC = {"mp3": ".mp3", "mp3float": ".mp3", "aac": ".m4a", "alac": ".m4a"}


def media_type(info: media.MediaInfo) -> str:
    """What an output is: ``image`` (a single still picture), ``audio`` (no picture at all) or ``video``."""
    if info.is_still:
        return "image"
    return "video" if info.has_video else "audio"


def artefact_suffix(info: media.MediaInfo, kind_of_media: str) -> str:
    """The key's suffix: the file's own when it names what the file is, else one from the codec
    (a provider's ``output`` with no or the wrong extension still gets a key, and a content type,
    that says what it holds). Video keeps today's rule: its own suffix, ``.mp4`` when it has none."""
    own = info.path.suffix.lower()
    if kind_of_media == "video":
        return info.path.suffix or ".mp4"
    if own in _OWN_SUFFIXES[kind_of_media]:
        return own
    if kind_of_media == "image":
        return _IMAGE_SUFFIX_BY_CODEC.get(info.video_codec or "", own or ".png")
    codec = info.audio_codec or ""
    return ".wav" if codec.startswith("pcm_") else _AUDIO_SUFFIX_BY_CODEC.get(codec, own or ".m4a")


class ArtefactStep:
    def __init__(self, store: ArtefactStore, *, contact_sheets: bool = True):
        self.store = store
        self.contact_sheets = contact_sheets

    def record(self, execution_id: str, job: ExecutionJobRow, output: JobOutput,
               inputs: Sequence[Mapping[str, Any]], workdir: Path) -> dict[str, Any]:
        """Store ``output`` and return the job's result. A fused render reports what its input
        jobs' artefacts are (``output.inputs``): the checks and the lineage compare against those.

        Images and audio are artefacts in their own right (``mediaType``): they keep their own
        suffix and content type, are decode-checked and previewed in their own way, and carry the
        fields that describe them (a still has no duration, a voice-over has a loudness)."""
        inputs = output.inputs if output.inputs is not None else inputs
        info = media.probe(output.path, require_video=False)
        kind_of_media = media_type(info)
        # Media from outside (imports, provider outputs) is decoded in full; our own ffmpeg
        # renders are covered by the encoder's success and the probe's tail check.
        decodable = decode_check(info, kind_of_media) if output.external else True
        digest = file_digest(output.path)
        key = artefact_key(execution_id, job.job_id, job.kind, digest, artefact_suffix(info, kind_of_media))
        stored = self.store.put_file(output.path, key, digest=digest)
        result: dict[str, Any] = {
            "key": stored.key, "uri": stored.uri, "digest": stored.digest, "size": stored.size,
            "mediaType": kind_of_media,
            **describe(info, kind_of_media),
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
            "sheetKey": self._preview(info, kind_of_media, key, workdir),
        }
        result["checks"] = [c.as_dict() for c in check_output(job.operation, job.params, result, inputs)]
        return result

    def _preview(self, info: media.MediaInfo, kind_of_media: str, key: str, workdir: Path) -> str | None:
        """A preview stored beside the artefact (a contact sheet, a thumbnail or a waveform); a
        preview is never worth failing a job for."""
        if not self.contact_sheets:
            return None
        try:
            out = workdir / "sheet.jpg"
            if kind_of_media == "image":
                sheet = still_preview(info.path, out, info=info)
            elif kind_of_media == "audio":
                sheet = waveform(info.path, out, info=info, timeout=max(60.0, info.duration / 10))
            else:
                sheet = media.contact_sheet(info.path, out, info=info)
            sheet_key = key.rsplit(".", 1)[0] + "-sheet.jpg"
            self.store.put_file(sheet, sheet_key)
            return sheet_key
        except Exception as exc:  # noqa: BLE001
            log.warning("preview for %s failed: %s", key, exc)
            return None


def describe(info: media.MediaInfo, kind_of_media: str) -> dict[str, Any]:
    """The result fields that say what the artefact is. Video: as always; a still: its picture
    (no duration, no sound); audio: its length, format and loudness (no picture)."""
    if kind_of_media == "image":
        return {"duration": 0.0, "width": info.width, "height": info.height, "fps": 0.0, "hasAudio": False,
                "videoCodec": info.video_codec, "aspectRatio": aspect_name(info.width, info.height)}
    if kind_of_media == "audio":
        loudness = _measure(info)
        return {"duration": round(info.duration, 3), "width": 0, "height": 0, "fps": 0.0, "hasAudio": True,
                "videoCodec": None, "aspectRatio": None, "audioCodec": info.audio_codec,
                "sampleRate": info.sample_rate, "channels": info.channels,
                "loudnessLufs": _finite(loudness.integrated_lufs) if loudness else None,
                "truePeakDbfs": _finite(loudness.true_peak_dbfs) if loudness else None}
    return {"duration": round(info.duration, 3), "width": info.width, "height": info.height,
            "fps": round(info.fps, 3), "hasAudio": info.has_audio, "videoCodec": info.video_codec,
            "aspectRatio": aspect_name(info.width, info.height)}


def _finite(value: float | None) -> float | None:
    """JSON has no infinities: digital silence's -inf dBFS peak is stored as "none measured"."""
    return round(value, 2) if value is not None and math.isfinite(value) else None


def _measure(info: media.MediaInfo) -> Loudness | None:
    """Loudness, or None when ffmpeg cannot measure it (the ``loudness`` check then fails, saying so)."""
    try:
        return measure_loudness(info.path, timeout=max(60.0, info.duration))
    except media.MediaError as exc:
        log.warning("loudness of %s not measured: %s", info.path.name, exc)
        return None


def decode_check_command(info: media.MediaInfo, kind_of_media: str) -> list[str]:
    """Pure: a still decodes its one picture; audio decodes every sample; video every frame and sample.

    A still is decoded with ``-err_detect explode``: the JPEG decoder otherwise pads a cut-off
    image with grey and calls it a success, and one picture is cheap to be strict about."""
    if kind_of_media == "image":
        return ["-xerror", "-err_detect", "explode", "-i", str(info.path), "-map", "0:v:0", "-frames:v", "1",
                "-f", "null", "-"]
    if kind_of_media == "audio":
        return ["-xerror", "-i", str(info.path), "-map", "0:a:0", "-f", "null", "-"]
    return media.decode_check_command(info)


def decode_check(info: media.MediaInfo, kind_of_media: str | None = None) -> bool | str:
    """True when the media decodes; otherwise ffmpeg's reason (reported by the asset check)."""
    kind_of_media = kind_of_media or media_type(info)
    try:
        media.run_ffmpeg(decode_check_command(info, kind_of_media), timeout=max(60.0, info.duration * 4),
                         expected_duration=info.duration or None)
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
