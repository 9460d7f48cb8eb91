"""The media layer: ffmpeg command builders, one runner, probing and analysis.

Everything a caller needs is importable from here. Builders (``build_*``)
are pure and return argv lists; :func:`run_ffmpeg` is the only code that
starts ffmpeg; operations (``render_local_clip``, ``import_media``, ``merge``,
``reframe``, ``replace_audio``, ``burn_subtitles``) probe, build, run into a
temp file and atomically move it onto ``out``, returning the output's
:class:`MediaInfo`. Nothing here imports Dagster or FastAPI.
"""

from __future__ import annotations

from .audio import ReplaceAudioCommand, build_replace_audio_command, replace_audio
from .burn import (
    SubtitleStyle,
    ass_escape,
    build_ass,
    build_burn_command,
    burn_subtitles,
    parse_colour,
    subtitle_style,
)
from .errors import FFmpegError, InvalidMediaError, MediaError, MediaParamError, MediaTimeoutError
from .filters import escape_filter_value
from .fonts import fonts_dir
from .generate import build_render_command, clip_palette, render_local_clip
from .geometry import ASPECT_RATIOS, parse_aspect, parse_resolution
from .importer import ImportCommand, build_import_command, decode_check_command, import_media
from .layer import ChromaKey, ClipLayout, LayerClip, LayerLayout, LayerSpec, build_layer_command, layer, plan_layers
from .merge import MergeCommand, Transition, build_merge_command, can_stream_copy, merge, plan_merge
from .mix import AudioBed, ClipOptions, mix_beds_fragment
from .placement import Placement, parse_placement
from .probe import MediaInfo, probe
from .profile import RENDER_PRESETS, EncoderProfile, default_profile, render_profile
from .reframe import STRATEGIES, ReframeCommand, build_reframe_command, output_size, plan_smart_crop, reframe
from .runner import ProgressCallback, RunResult, ffmpeg_exe, harden_args, run_ffmpeg
from .smart import CropPath, InterestSample, analyse_interest, crop_path
from .subtitles import Cue, cues_from_text, cues_from_words, format_srt, parse_srt, parse_subtitles, parse_vtt
from .thumbs import build_contact_sheet_command, contact_sheet

__all__ = [
    "ChromaKey",
    "ClipLayout",
    "LayerClip",
    "LayerLayout",
    "LayerSpec",
    "Placement",
    "build_layer_command",
    "layer",
    "parse_placement",
    "plan_layers",
    "build_contact_sheet_command",
    "contact_sheet",
    "ASPECT_RATIOS",
    "STRATEGIES",
    "AudioBed",
    "ClipOptions",
    "CropPath",
    "Cue",
    "EncoderProfile",
    "FFmpegError",
    "ImportCommand",
    "InterestSample",
    "InvalidMediaError",
    "MediaError",
    "MediaInfo",
    "MediaParamError",
    "MediaTimeoutError",
    "MergeCommand",
    "ProgressCallback",
    "ReframeCommand",
    "ReplaceAudioCommand",
    "RunResult",
    "SubtitleStyle",
    "Transition",
    "analyse_interest",
    "ass_escape",
    "build_ass",
    "build_burn_command",
    "build_import_command",
    "build_merge_command",
    "build_reframe_command",
    "build_render_command",
    "build_replace_audio_command",
    "burn_subtitles",
    "can_stream_copy",
    "clip_palette",
    "crop_path",
    "cues_from_text",
    "cues_from_words",
    "decode_check_command",
    "default_profile",
    "render_profile",
    "RENDER_PRESETS",
    "escape_filter_value",
    "ffmpeg_exe",
    "fonts_dir",
    "format_srt",
    "harden_args",
    "import_media",
    "merge",
    "mix_beds_fragment",
    "output_size",
    "parse_aspect",
    "parse_colour",
    "parse_resolution",
    "parse_srt",
    "parse_subtitles",
    "parse_vtt",
    "plan_merge",
    "plan_smart_crop",
    "probe",
    "reframe",
    "render_local_clip",
    "replace_audio",
    "run_ffmpeg",
    "subtitle_style",
]
