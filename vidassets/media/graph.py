"""A small typed filter-graph builder: inputs, labelled chains, one ``-filter_complex``.

Why not paste strings: a fused render composes the merge, reframe, audio and caption fragments
of :mod:`vidassets.media` in whatever order a plan chains them, so every fragment must take its
input *labels* and hand back fresh output labels, never assume ``[0:v:0]`` and ``[vout]``.
:class:`FilterGraph` hands out unique labels, keeps the chains in order and renders the argv;
:class:`Stream` is what flows between fragments: a video label, an audio label and what the
stream *is* (probed for a stored source, predicted for an intermediate that is never written).

Only our own numbers, labels and escaped paths go into chains (see
:mod:`vidassets.media.filters`); user text reaches ffmpeg through files.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .probe import MediaInfo

_LABEL = re.compile(r"^[A-Za-z0-9_:]+$")


@dataclass(frozen=True)
class Stream:
    """A picture and its sound inside a graph.

    ``audio`` is ``None`` when the stream has no sound yet (a fragment that must output audio
    synthesises silence). ``audio_source`` is set while the audio is an input file's untouched
    stream, which a render may then copy instead of encoding.
    """

    video: str
    audio: str | None
    info: MediaInfo
    audio_source: str | None = None


@dataclass
class FilterGraph:
    """Inputs and chains of one ffmpeg invocation."""

    inputs: list[list[str]] = field(default_factory=list)
    chains: list[str] = field(default_factory=list)
    _counter: int = 0

    def add_input(self, path: Path | str, *, options: Sequence[str] = ()) -> int:
        """Register an input (``options`` go before its ``-i``); returns its index."""
        self.inputs.append([*options, "-i", str(path)])
        return len(self.inputs) - 1

    def source(self, info: MediaInfo) -> Stream:
        """A probed file as a stream: ``N:v:0`` and (when it has sound) ``N:a:0``."""
        index = self.add_input(info.path)
        audio = f"{index}:a:0" if info.has_audio else None
        return Stream(f"{index}:v:0", audio, info, audio_source=audio)

    def label(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def chain(self, sources: Sequence[str], filters: Sequence[str], outputs: Sequence[str]) -> None:
        """``[a][b]f1,f2[c]``; an empty filter list passes the stream through (``null``)."""
        for name in (*sources, *outputs):
            if not _LABEL.match(name):
                raise ValueError(f"invalid graph label {name!r}")
        body = ",".join(filters) if filters else "null"
        self.chains.append("".join(f"[{s}]" for s in sources) + body + "".join(f"[{o}]" for o in outputs))

    def discard(self, label: str | None, *, audio: bool) -> None:
        """End a fragment's output nobody reads: ffmpeg refuses a graph with an unconnected output
        (an input file's own stream may simply go unused)."""
        if label is not None and ":" not in label:
            self.chain([label], ["anullsink" if audio else "nullsink"], [])

    def raw(self, text: str) -> None:
        """A chain built by a fragment that needs several outputs at once (``split``)."""
        self.chains.append(text)

    def text(self) -> str:
        return ";".join(self.chains)

    def input_args(self) -> list[str]:
        return [arg for group in self.inputs for arg in group]


def predicted(width: int, height: int, fps: float, duration: float, *, pix_fmt: str = "yuv420p",
              audio_rate: int = 48000, channels: int = 2, has_audio: bool = True) -> MediaInfo:
    """What a fragment's output will be, described like a probe would (square pixels, upright,
    audio already in the profile's rate and layout). ``path`` names no file: nothing is written."""
    return MediaInfo(path=Path("(graph)"), duration=duration, width=width, height=height, fps=fps,
                     video_codec=None, audio_codec=None, has_audio=has_audio, rotation=0, pix_fmt=pix_fmt,
                     size_bytes=0, format_name="graph", video_duration=duration,
                     audio_duration=duration if has_audio else None,
                     sample_rate=audio_rate if has_audio else None, channels=channels if has_audio else None)
