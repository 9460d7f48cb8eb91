"""The one place that runs ffmpeg.

Builders elsewhere return plain argument lists (tested without running
anything); :func:`run_ffmpeg` is the only code that starts a process. It

* resolves the binary (:func:`ffmpeg_exe`),
* hardens the arguments (:func:`harden_args`): no stdin, no banner, overwrite,
  machine-readable progress on stdout, and ``-protocol_whitelist file`` before
  every ``-i`` so no input can reach the network or a meta-protocol such as
  ``concat:`` / ``subfile:`` - plus a Python-side refusal with a clear message,
* reads stdout and stderr on two threads so neither pipe can fill up and
  deadlock ffmpeg, keeping only the last few KB of stderr,
* turns ``-progress`` key=value blocks into fraction-done callbacks,
* kills the whole process group on timeout (:class:`MediaTimeoutError`), and
* maps a failure to :class:`InvalidMediaError` when stderr says the input is
  bad, otherwise to :class:`FFmpegError`, always with the stderr tail.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from . import config
from .errors import STDERR_TAIL_BYTES, FFmpegError, InvalidMediaError, MediaParamError, MediaTimeoutError
from .fonts import fontconfig_env

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def _encoder_slots() -> threading.BoundedSemaphore:
    """How many ffmpeg processes one Python process runs at once.

    Each encoder already spreads over every core (x264 picks its own thread count), so two
    encodes side by side on 2 cores just take turns and thrash caches: clips render sooner one
    after another than all at once. Jobs still run in parallel (provider
    calls, downloads, uploads); only their ffmpeg work queues here. Default: one slot per two
    cores; ``MediaConfig.slots`` (``VIDASSETS_FFMPEG_SLOTS``) overrides.
    """
    configured = config.current().slots
    return threading.BoundedSemaphore(configured if configured and configured > 0 else max(1, (os.cpu_count() or 2) // 2))

ProgressCallback = Callable[[float], None]

#: Protocols an input may use. ``file`` only: inputs are local paths we resolved.
INPUT_PROTOCOLS = "file"
#: Input formats that are generators, not files (their "path" is a graph description).
GENERATOR_FORMATS = frozenset({"lavfi"})

_GLOBAL_FLAGS = ["-nostdin", "-hide_banner", "-y", "-progress", "pipe:1", "-nostats"]

#: stderr fragments meaning "the input is not (valid) media" rather than "ffmpeg broke".
_INVALID_INPUT_MARKERS = (
    "invalid data found when processing input",
    "moov atom not found",
    "partial file",
    "corrupt input packet",
    "could not find codec parameters",
    "does not contain any stream",
    "error while decoding",
    "invalid nal unit",
    "error during demuxing",
)


@dataclass(frozen=True)
class RunResult:
    """What a successful run leaves behind: the full argv, stderr tail and wall time."""

    argv: list[str]
    returncode: int
    stderr: str
    elapsed: float


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary.

    ``MediaConfig.ffmpeg`` (``VIDASSETS_FFMPEG``) wins; then an ``ffmpeg`` on PATH (a system build is
    usually newer and hardware-aware); then the static binary shipped in the
    ``imageio-ffmpeg`` wheel, which always exists and has libx264, libass,
    drawtext and xfade.
    """
    override = config.current().ffmpeg
    if override:
        return override
    found = shutil.which("ffmpeg")
    if found:
        return found
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


config.on_change(_encoder_slots.cache_clear)
config.on_change(ffmpeg_exe.cache_clear)


def _input_groups(args: Sequence[str]) -> list[tuple[int, str, str | None]]:
    """``(index of -i, input value, -f format or None)`` for every input in ``args``."""
    groups = []
    fmt: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "-f" and i + 1 < len(args):
            fmt = args[i + 1]
            i += 2
            continue
        if arg == "-i" and i + 1 < len(args):
            groups.append((i, args[i + 1], fmt))
            fmt = None
            i += 2
            continue
        i += 1
    return groups


def check_input(value: str, fmt: str | None) -> None:
    """Refuse any input that is not an absolute local path (or a generator graph we wrote).

    Requiring a leading ``/`` is stricter than spotting protocol prefixes
    (ffmpeg also accepts ``name,opts:`` forms such as ``subfile,,start,0,:``),
    and every builder passes resolved absolute paths anyway.
    """
    if fmt in GENERATOR_FORMATS:
        return
    target = value[len("file:") :] if value.startswith("file:") else value
    if not target.startswith("/") or "\x00" in target:
        raise MediaParamError(f"refusing input {value!r}: only local files (absolute paths) are accepted")


def harden_args(args: Sequence[str]) -> list[str]:
    """Add the global safety/progress flags and a protocol whitelist before every ``-i``.

    Pure: ``args`` are ffmpeg arguments without the program name. Raises
    :class:`MediaParamError` for an input that is not a local file.
    """
    args = list(args)
    if args and not args[0].startswith("-") and os.path.basename(args[0]).startswith("ffmpeg"):
        raise ValueError("pass ffmpeg arguments without the program name")
    out = list(_GLOBAL_FLAGS)
    if "-loglevel" not in args and "-v" not in args:
        out += ["-loglevel", "level+warning"]
    starts = {idx: (value, fmt) for idx, value, fmt in _input_groups(args)}
    for idx, arg in enumerate(args):
        if idx in starts:
            value, fmt = starts[idx]
            check_input(value, fmt)
            out += ["-protocol_whitelist", INPUT_PROTOCOLS]
        out.append(arg)
    return out


def default_timeout(expected_duration: float | None) -> float:
    """A generous ceiling so a wedged ffmpeg never blocks a worker forever.

    ``MediaConfig.timeout_s`` (``VIDASSETS_FFMPEG_TIMEOUT``) overrides; otherwise 2 minutes plus
    30 s per second of media (far slower than realtime even on 2 cores).
    """
    configured = config.current().timeout_s
    if configured:
        return configured
    if expected_duration is None:
        return 3600.0
    return 120.0 + 30.0 * max(0.0, expected_duration)


class _ProgressParser:
    """Turns ``-progress`` key=value lines into monotonic fractions in [0, 1]."""

    def __init__(self, expected_duration: float | None, callback: ProgressCallback | None) -> None:
        self.expected = expected_duration if expected_duration and expected_duration > 0 else None
        self.callback = callback
        self.last = -1.0
        self.out_time: float | None = None

    def feed(self, line: str) -> None:
        key, _, value = line.strip().partition("=")
        if key == "out_time_us" and value.lstrip("-").isdigit():
            self.out_time = int(value) / 1_000_000
        elif key == "progress":
            if value == "end":
                self.emit(1.0)
            elif self.expected and self.out_time is not None:
                self.emit(min(0.999, max(0.0, self.out_time / self.expected)))

    def emit(self, fraction: float) -> None:
        if self.callback is not None and fraction > self.last:
            self.last = fraction
            self.callback(fraction)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill ffmpeg and anything it spawned (it runs in its own session)."""
    if proc.poll() is not None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # pragma: no cover - non-POSIX
            proc.kill()
    except ProcessLookupError:
        pass


def classify_failure(
    stderr: str, returncode: int, argv: list[str]
) -> FFmpegError | InvalidMediaError | MediaParamError:
    """Map a failed run to the error a caller can act on."""
    lowered = stderr.lower()
    if "not on whitelist" in lowered:
        return MediaParamError("input refused: only local files are accepted", stderr=stderr)
    if "no such file or directory" in lowered:
        return InvalidMediaError("input file not found", stderr=stderr)
    for marker in _INVALID_INPUT_MARKERS:
        if marker in lowered:
            return InvalidMediaError(
                f"input is not valid media (ffmpeg: {marker}); the file may be truncated or not a video",
                stderr=stderr,
            )
    last = next((ln for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "")
    return FFmpegError(
        f"ffmpeg failed with exit code {returncode}: {last[:300]}", stderr=stderr, returncode=returncode, argv=argv
    )


def run_ffmpeg(
    argv: Sequence[str],
    *,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    expected_duration: float | None = None,
    env: Mapping[str, str] | None = None,
    queue: bool = True,
) -> RunResult:
    """Run ffmpeg with ``argv`` (arguments without the program name).

    ``timeout`` defaults to :func:`default_timeout`. ``on_progress`` gets
    non-decreasing fractions, ending with exactly 1.0 on success; it runs on a
    reader thread, and if it raises (e.g. to cancel) ffmpeg is killed and the
    exception re-raised here. ``env`` adds to the inherited environment; the
    shipped-fonts fontconfig file is always set so text renders the same on
    every host. ``queue=False`` skips the encoder slots (:func:`_encoder_slots`): for
    commands that decode a few frames (previews), which fit in the cores an encode leaves idle
    instead of waiting a whole render for their turn.
    """
    full = [ffmpeg_exe(), *harden_args(argv)]
    budget = default_timeout(expected_duration) if timeout is None else timeout
    proc_env = dict(os.environ)
    proc_env.update(fontconfig_env())
    if env:
        proc_env.update(env)

    parser = _ProgressParser(expected_duration, on_progress)
    log.debug("running %s", " ".join(full))
    if not queue:
        return _run(full, budget, proc_env, parser)
    with _encoder_slots():
        return _run(full, budget, proc_env, parser)


class _Pipes:
    """Drains ffmpeg's stdout (progress lines, fed to the parser) and stderr (a bounded tail) on two
    threads, so ffmpeg never blocks on a full pipe. An exception from the progress callback (how a
    cancelled job stops ffmpeg) kills the process group and is re-raised on the caller's thread."""

    def __init__(self, proc: subprocess.Popen[bytes], parser: _ProgressParser):
        assert proc.stdout is not None and proc.stderr is not None
        self.proc = proc
        self.parser = parser
        self.callback_error: list[BaseException] = []
        self._chunks: collections.deque[str] = collections.deque()
        self._size = 0
        self.threads = [threading.Thread(target=self._read_stdout, args=(proc.stdout,), daemon=True),
                        threading.Thread(target=self._read_stderr, args=(proc.stderr,), daemon=True)]
        for thread in self.threads:
            thread.start()

    def _read_stdout(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            if self.callback_error:
                continue  # keep draining so ffmpeg never blocks on a full pipe
            try:
                self.parser.feed(raw.decode("utf-8", errors="replace"))
            except BaseException as exc:  # re-raised on the caller's thread
                self.callback_error.append(exc)
                _kill_group(self.proc)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(lambda: stream.read(4096), b""):
            text = raw.decode("utf-8", errors="replace")
            self._chunks.append(text)
            self._size += len(text)
            while self._size > 4 * STDERR_TAIL_BYTES and len(self._chunks) > 1:
                self._size -= len(self._chunks.popleft())

    def closed_by(self, deadline: float) -> bool:
        """Wait until ffmpeg closed both pipes (it does so as it exits), at most until ``deadline``.

        Waiting on the readers rather than the process: ``Popen.wait(timeout)`` polls with sleeps,
        a delay paid on every call and large next to a short command such as a preview."""
        for thread in self.threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self.threads)

    @property
    def stderr(self) -> str:
        return "".join(self._chunks)


def _run(full: list[str], budget: float, proc_env: Mapping[str, str], parser: _ProgressParser) -> RunResult:
    """One ffmpeg process, start to finish (see :func:`run_ffmpeg`)."""
    started = time.monotonic()
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=proc_env, start_new_session=True)
    pipes = _Pipes(proc, parser)
    deadline = started + budget
    try:
        try:
            if not pipes.closed_by(deadline):
                raise subprocess.TimeoutExpired(full, budget)
            returncode = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            pipes.closed_by(time.monotonic() + 5)
            raise MediaTimeoutError(f"ffmpeg exceeded its {budget:g}s time budget and was killed",
                                    stderr=pipes.stderr) from None
    except BaseException:
        _kill_group(proc)
        raise
    finally:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    elapsed = time.monotonic() - started
    stderr = pipes.stderr[-4 * STDERR_TAIL_BYTES :]
    if pipes.callback_error:
        raise pipes.callback_error[0]
    if returncode != 0:
        raise classify_failure(stderr, returncode, full)
    parser.emit(1.0)
    log.debug("ffmpeg finished in %.2fs", elapsed)
    return RunResult(argv=full, returncode=returncode, stderr=stderr, elapsed=elapsed)
