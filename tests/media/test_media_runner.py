"""run_ffmpeg: hardening, protocol refusal, timeout, progress, error mapping."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from vidassets.media import (
    FFmpegError,
    InvalidMediaError,
    MediaParamError,
    MediaTimeoutError,
    ffmpeg_exe,
    harden_args,
    run_ffmpeg,
)
from vidassets.media.runner import classify_failure


def test_ffmpeg_exe_exists() -> None:
    assert Path(ffmpeg_exe()).exists()


def test_harden_adds_global_flags_and_whitelist_before_every_input() -> None:
    args = harden_args(["-f", "lavfi", "-i", "testsrc", "-i", "/tmp/a.mp4", "-i", "/tmp/b.mp4", "/tmp/out.mp4"])
    for flag in ("-nostdin", "-hide_banner", "-y", "-nostats"):
        assert flag in args
    assert args[args.index("-progress") + 1] == "pipe:1"
    input_positions = [i for i, a in enumerate(args) if a == "-i"]
    assert len(input_positions) == 3
    for pos in input_positions:
        # the whitelist directly precedes -i (after the input's own options)
        assert args[pos - 2 : pos] == ["-protocol_whitelist", "file"]
    assert args[-1] == "/tmp/out.mp4"


@pytest.mark.parametrize(
    "value",
    [
        "http://127.0.0.1:9/x.mp4",
        "concat:/tmp/a.mp4|/tmp/b.mp4",
        "subfile,,start,0,end,10,,:/tmp/a.mp4",
        "-",
        "tcp://127.0.0.1:9",
        "file:concat:x",
    ],
)
def test_non_local_inputs_are_refused_before_running(value: str) -> None:
    with pytest.raises(MediaParamError, match="only local files"):
        harden_args(["-i", value, "-f", "null", "-"])
    with pytest.raises(MediaParamError):
        run_ffmpeg(["-i", value, "-f", "null", "-"], timeout=10)


def test_lavfi_graph_inputs_are_allowed() -> None:
    args = harden_args(["-f", "lavfi", "-i", "sine=f=440:d=1", "-f", "null", "-"])
    assert "sine=f=440:d=1" in args


def test_whitelist_blocks_nested_network_open(tmp_path: Path) -> None:
    """A local playlist that points at a URL passes the Python check; ffmpeg's whitelist stops it."""
    listing = tmp_path / "list.txt"
    listing.write_text("ffconcat version 1.0\nfile 'http://127.0.0.1:9/x.mp4'\n")
    with pytest.raises(MediaParamError) as info:
        run_ffmpeg(["-f", "concat", "-safe", "0", "-i", str(listing), "-f", "null", "-"], timeout=20)
    assert info.value.stderr is not None and "not on whitelist" in info.value.stderr
    assert info.value.code == "invalid_params"


def test_timeout_kills_ffmpeg() -> None:
    started = time.monotonic()
    with pytest.raises(MediaTimeoutError) as info:
        run_ffmpeg(["-f", "lavfi", "-re", "-i", "testsrc2=s=64x64", "-f", "null", "-"], timeout=1)
    assert time.monotonic() - started < 5
    assert info.value.code == "timeout"


def test_progress_is_increasing_and_ends_at_one() -> None:
    seen: list[float] = []
    run_ffmpeg(
        [
            "-f",
            "lavfi",
            "-i",
            "testsrc2=s=320x180:r=24:d=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-f",
            "null",
            "-",
        ],
        expected_duration=3.0,
        on_progress=seen.append,
    )
    assert seen, "no progress reported"
    assert seen == sorted(seen)
    assert all(0.0 <= f <= 1.0 for f in seen)
    assert seen[-1] == 1.0


def test_progress_callback_exception_cancels_the_run() -> None:
    class Cancelled(Exception):
        pass

    def cancel(_fraction: float) -> None:
        raise Cancelled

    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_ffmpeg(
            ["-f", "lavfi", "-re", "-i", "testsrc2=s=64x64:d=30", "-f", "null", "-"],
            on_progress=cancel,
            expected_duration=30,
        )
    assert time.monotonic() - started < 10


def test_lots_of_stderr_does_not_deadlock() -> None:
    result = run_ffmpeg(
        ["-loglevel", "debug", "-f", "lavfi", "-i", "testsrc2=s=64x64:d=1", "-f", "null", "-"], timeout=60
    )
    assert result.returncode == 0
    assert len(result.stderr) <= 4 * 4096


def test_invalid_input_maps_to_invalid_media(text_file: Path) -> None:
    with pytest.raises(InvalidMediaError) as info:
        run_ffmpeg(["-i", str(text_file), "-f", "null", "-"], timeout=20)
    assert info.value.code == "invalid_media"
    assert info.value.stderr


def test_other_failures_map_to_ffmpeg_error() -> None:
    with pytest.raises(FFmpegError) as info:
        run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=d=1", "-vf", "nosuchfilter", "-f", "null", "-"], timeout=20)
    assert info.value.code == "ffmpeg_failed"
    assert info.value.stderr and "nosuchfilter" in info.value.stderr
    assert info.value.returncode not in (None, 0)


def test_classify_failure_keeps_a_bounded_tail() -> None:
    error = classify_failure("x" * 100_000 + "\nboom", 1, ["ffmpeg"])
    assert isinstance(error, FFmpegError)
    assert error.stderr is not None and len(error.stderr) <= 4096 and error.stderr.endswith("boom")


@pytest.mark.parametrize(("configured", "expected"), [("1", 1), ("3", 3)])
def test_ffmpeg_processes_queue_for_encoder_slots(monkeypatch: pytest.MonkeyPatch, configured: str,
                                                  expected: int) -> None:
    """Jobs run in threads, their ffmpeg processes take turns: at most MediaConfig.slots at once."""
    import threading
    import time as _time

    from vidassets.media import runner
    from vidassets.media.config import MediaConfig, configure

    configure(MediaConfig(slots=int(configured)))
    active, peak, lock = [0], [0], threading.Lock()
    real_run = runner._run

    def counting_run(*args, **kwargs):  # type: ignore[no-untyped-def]
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        try:
            _time.sleep(0.05)
            return real_run(*args, **kwargs)
        finally:
            with lock:
                active[0] -= 1

    monkeypatch.setattr(runner, "_run", counting_run)
    try:
        threads = [threading.Thread(target=runner.run_ffmpeg, args=(["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.2",
                                                                     "-f", "null", "-"],)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        configure(MediaConfig())
    assert peak[0] == expected


def test_previews_do_not_wait_for_an_encoder_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from vidassets.media import runner
    from vidassets.media.config import MediaConfig, configure

    configure(MediaConfig(slots=1))
    slots = runner._encoder_slots()
    slots.acquire()  # a render holds the only slot
    try:
        unqueued = threading.Thread(target=runner.run_ffmpeg, args=(["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1",
                                                                     "-f", "null", "-"],), kwargs={"queue": False})
        unqueued.start()
        unqueued.join(timeout=30)
        assert not unqueued.is_alive()  # it ran beside the render
        queued = threading.Thread(target=runner.run_ffmpeg, args=(["-f", "lavfi", "-i", "nullsrc=s=16x16:d=0.1",
                                                                   "-f", "null", "-"],))
        queued.start()
        queued.join(timeout=1.0)
        assert queued.is_alive()  # an ordinary command waits for the slot
    finally:
        slots.release()
        queued.join(timeout=30)
        configure(MediaConfig())
    assert not queued.is_alive()


def test_settings_reach_the_media_layer_through_the_service_builder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """VIDASSETS_FFMPEG_* are Settings fields; building a process's services applies them."""
    from tests.conftest import embedded_settings
    from vidassets.media import config, default_profile
    from vidassets.services import build_services

    try:
        build_services(embedded_settings(tmp_path / "data", ffmpeg_preset="ultrafast", ffmpeg_crf=30, ffmpeg_slots=3,
                                         ffmpeg_timeout=99.0))
        profile = default_profile()
        assert (profile.preset, profile.crf) == ("ultrafast", 30)
        assert config.current().slots == 3
        from vidassets.media.runner import _encoder_slots, default_timeout

        assert _encoder_slots()._initial_value == 3 and default_timeout(10.0) == 99.0  # type: ignore[attr-defined]
    finally:
        config.configure(config.MediaConfig())
