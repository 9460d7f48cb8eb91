"""The encoder profile: the one place where output encoding settings live.

Every operation that encodes writes H.264 (yuv420p) + AAC 48 kHz stereo in MP4
with ``+faststart``, so any output can be fed to any other operation, played in
a browser, and concatenated by stream copy when parameters match. Changing a
setting here changes it everywhere; ``VIDASSETS_FFMPEG_PRESET`` and
``VIDASSETS_FFMPEG_CRF`` (Settings, through :mod:`vidassets.media.config`) override the two knobs
operators actually tune.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from . import config
from .errors import MediaParamError

#: x264's output depends on its thread count; deterministic renders pin it.
DETERMINISTIC_THREADS = 2

_PRESETS = frozenset(
    {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"}
)

#: ffmpeg encoder name -> the codec name a probe reports for its output.
_CODEC_NAMES = {"libx264": "h264", "libopenh264": "h264", "aac": "aac", "libfdk_aac": "aac"}


@dataclass(frozen=True)
class EncoderProfile:
    """Encoder settings shared by every operation.

    ``threads=0`` lets x264 pick (fastest); deterministic renders replace it
    with :data:`DETERMINISTIC_THREADS` because x264 output varies with it.
    """

    video_codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 20
    pix_fmt: str = "yuv420p"
    audio_codec: str = "aac"
    audio_bitrate: str = "128k"
    audio_rate: int = 48000
    audio_channels: int = 2
    movflags: str = "+faststart"
    # A keyframe at least every 2 s (the usual streaming GOP): players and previews seek by
    # decoding at most this much, for a few percent more bytes than x264's 10 s default.
    keyframe_interval_s: float = 2.0
    threads: int = 0
    # Written into the container's ``comment`` tag: which renderer made the file. A renderer bump
    # thus changes the bytes (and the content-addressed key) even when the pictures are the same.
    comment: str | None = None
    # Outputs no larger than this on their short side (``draft`` previews); None: full size.
    max_short_side: int | None = None

    def __post_init__(self) -> None:
        if self.video_codec == "libx264" and self.preset not in _PRESETS:
            raise MediaParamError(f"unknown x264 preset {self.preset!r}")
        if not 0 <= self.crf <= 51:
            raise MediaParamError(f"crf must be within 0..51, got {self.crf}")
        if self.audio_channels not in (1, 2):
            raise MediaParamError("audio_channels must be 1 or 2")
        if self.threads < 0:
            raise MediaParamError("threads must be >= 0")
        if self.keyframe_interval_s < 0:
            raise MediaParamError("keyframe_interval_s must be >= 0 (0 leaves it to the encoder)")

    @property
    def video_codec_name(self) -> str:
        """Codec name as reported by a probe of our own output (``libx264`` -> ``h264``)."""
        return _CODEC_NAMES.get(self.video_codec, self.video_codec)

    @property
    def audio_codec_name(self) -> str:
        return _CODEC_NAMES.get(self.audio_codec, self.audio_codec)

    @property
    def channel_layout(self) -> str:
        return "stereo" if self.audio_channels == 2 else "mono"

    def video_args(self) -> list[str]:
        """Output options for the video encoder."""
        args = ["-c:v", self.video_codec]
        if self.video_codec == "libx264":
            args += ["-preset", self.preset, "-crf", str(self.crf)]
        args += ["-pix_fmt", self.pix_fmt]
        if self.keyframe_interval_s:
            args += ["-force_key_frames", f"expr:gte(t,n_forced*{self.keyframe_interval_s:g})"]
        if self.threads:
            args += ["-threads:v", str(self.threads)]
        return args

    def audio_args(self) -> list[str]:
        """Output options for the audio encoder (resampled to the profile's rate/layout)."""
        return [
            "-c:a",
            self.audio_codec,
            "-b:a",
            self.audio_bitrate,
            "-ar",
            str(self.audio_rate),
            "-ac",
            str(self.audio_channels),
        ]

    def container_args(self) -> list[str]:
        """Muxer options: MP4, index up front so players can start before the download ends."""
        args = ["-movflags", self.movflags, "-f", "mp4"]
        if self.comment:
            args = ["-metadata", f"comment={self.comment}", *args]
        return args

    def deterministic(self) -> EncoderProfile:
        """The same profile with a pinned thread count (x264 output depends on it)."""
        return replace(self, threads=self.threads or DETERMINISTIC_THREADS)


def default_profile() -> EncoderProfile:
    """The profile every operation uses unless given one, with the process's preset and CRF
    (:mod:`vidassets.media.config`, set from ``VIDASSETS_FFMPEG_PRESET`` / ``..._CRF``)."""
    configured = config.current()
    profile = EncoderProfile()
    return replace(profile, preset=configured.preset or profile.preset,
                   crf=profile.crf if configured.crf is None else configured.crf)


#: Quality/speed presets a plan may ask for (``options.renderPreset`` / ``renderPreset``).
RENDER_PRESETS = ("draft", "standard", "high")


def render_profile(preset: str = "standard", base: EncoderProfile | None = None) -> EncoderProfile:
    """The encoder profile for a plan's preset: ``standard`` is the configured default (today's
    output); ``draft`` renders fast and small for previews (short side at most 360 px); ``high``
    spends more time and bits per frame."""
    base = base or default_profile()
    if preset == "standard":
        return base
    if preset == "draft":
        return replace(base, preset="superfast", crf=max(base.crf, 28), audio_bitrate="96k", max_short_side=360)
    if preset == "high":
        return replace(base, preset="medium", crf=min(base.crf, 17), audio_bitrate="192k")
    raise MediaParamError(f"unknown render preset {preset!r}; use one of {', '.join(RENDER_PRESETS)}")
