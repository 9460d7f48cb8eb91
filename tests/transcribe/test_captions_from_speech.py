"""addSubtitles without text, end to end through the job handler: the offline transcriber hears
espeak-ng speech, captions are laid out and burned, and the output is a real, decodable video."""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.conftest import embedded_settings
from tests.frames import frame_at
from tests.providers.fakes import FakeReplicate, policy
from tests.transcribe.conftest import Speech, words_of
from vidassets.execution.operations import JobContext, JobOutput, OperationRunner
from vidassets.media import probe
from vidassets.media.burn import WORD_JOINER
from vidassets.plan.operations import Operation
from vidassets.plan.params import AddSubtitlesParams, parse_stored
from vidassets.providers.registry import ProviderRegistry
from vidassets.providers.replicate import ReplicateProvider
from vidassets.services import build_services

_DIALOGUE = re.compile(r"^Dialogue: \d+,(\d+):(\d\d):(\d\d)\.(\d\d),(\d+):(\d\d):(\d\d)\.(\d\d),Default,,0,0,0,,(.*)$")


def _seconds(h: str, m: str, s: str, cs: str) -> float:
    return int(h) * 3600 + int(m) * 60 + int(s) + int(cs) / 100


def dialogues(ass: str) -> list[tuple[float, float, str]]:
    """(start, end, raw text) of every event of an ASS document."""
    out = []
    for line in ass.splitlines():
        match = _DIALOGUE.match(line)
        if match:
            g = match.groups()
            out.append((_seconds(*g[0:4]), _seconds(*g[4:8]), g[8]))
    return out


def plain(text: str) -> str:
    """What an event shows: override tags dropped, escapes undone, ``\\N`` as a newline."""
    text = re.sub(r"(?<!\\)\{[^}]*\}", "", text)
    return text.replace("\\N", "\n").replace("\\{", "{").replace("\\}", "}").replace(WORD_JOINER, "")


@pytest.fixture
def runner(tmp_path: Path) -> OperationRunner:
    services = build_services(embedded_settings(tmp_path / "data"))
    return OperationRunner(services, ProviderRegistry())


@pytest.fixture
def captured_ass(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every ASS document the burner writes, read as ffmpeg is about to get it."""
    import vidassets.media.burn as burn

    documents: list[str] = []
    original = burn.build_burn_command

    def spy(info: Any, out: Path, ass_file: Path, profile: Any = None, **kw: Any) -> list[str]:
        documents.append(ass_file.read_text(encoding="utf-8"))
        return original(info, out, ass_file, profile, **kw)

    monkeypatch.setattr(burn, "build_burn_command", spy)
    yield documents


def run_job(runner: OperationRunner, video: Path, tmp_path: Path, **raw: Any) -> JobOutput:
    params = parse_stored("addSubtitles", AddSubtitlesParams.model_validate(raw).stored())
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    ctx = JobContext(execution_id="e1", job_id="caps", operation=Operation.ADD_SUBTITLES, params=params,
                     inputs=[video], workdir=workdir, on_progress=lambda _: None, cancel=threading.Event())
    return runner.run(ctx)


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_the_sdk_shape_captions_the_speech(runner: OperationRunner, speech: Speech, tmp_path: Path,
                                           captured_ass: list[str]) -> None:
    """``{language, style}`` - what the TypeScript SDK sends - burns what was said."""
    result = run_job(runner, speech.video, tmp_path, language="en", style="default")
    assert result.details["source"] == "transcription (offline)"
    assert result.details["words"] == len(words_of(speech.text)) and result.details["language"] == "en"
    assert words_of(result.details["transcript"]) == words_of(speech.text)
    # The captions are the spoken words, in order, each shown once.
    events = dialogues(captured_ass[-1])
    assert len(events) == result.details["cues"] >= 2
    assert words_of(" ".join(plain(text) for _, _, text in events)) == words_of(speech.text)
    for (s1, e1, _), (s2, _, _) in itertools.pairwise(events):
        assert s1 < e1 <= s2 + 1e-6
    assert events[-1][1] <= speech.duration
    # The output is a real video: right size and length, audio kept, every frame decodes.
    info = probe(result.path)
    assert (info.display_width, info.display_height) == speech.size
    assert info.duration == pytest.approx(speech.duration, abs=0.1) and info.has_audio
    assert decoded_frames(result.path) == pytest.approx(speech.duration * 24, abs=2)
    # Captions are drawn (bottom of the frame) while words are spoken, and nothing is drawn on top.
    t = (events[0][0] + events[0][1]) / 2
    changed = np.abs(frame_at(result.path, t) - frame_at(speech.video, t)).mean(axis=2) > 60
    third = changed.shape[0] // 3
    assert changed[-third:].sum() > 200 and changed[:third].sum() == 0


def test_word_highlight_has_one_event_per_spoken_word(runner: OperationRunner, speech: Speech, tmp_path: Path,
                                                      captured_ass: list[str]) -> None:
    result = run_job(runner, speech.video, tmp_path, style="tiktok")
    events = dialogues(captured_ass[-1])
    lit = []
    for start, end, text in events:
        match = re.search(r"\{\\1c&H00E0FF&\}(.*?)\{\\1c&HFFFFFF&\}", text)
        if match:
            lit.append((start, end, plain(match.group(1))))
    # Every spoken word is lit once, in order, and its event starts when the word does.
    assert words_of(" ".join(w for _, _, w in lit)) == words_of(speech.text)
    assert len(lit) == result.details["words"]
    for (s1, e1, _), (s2, _, _) in itertools.pairwise(lit):
        assert s1 < e1 <= s2 + 1e-6
    # Short-form: at most 5 words on screen, captions pop in (scale tags on each caption's first event).
    assert max(len(plain(text).split()) for _, _, text in events) <= 5
    assert sum("\\fscx70" in text for _, _, text in events) == result.details["cues"]
    # The lit word is drawn in the highlight colour (yellow: red and green high, blue low).
    t = (lit[1][0] + lit[1][1]) / 2
    frame, before = frame_at(result.path, t), frame_at(speech.video, t)
    drawn = np.abs(frame - before).mean(axis=2) > 60
    yellow = (frame[..., 0] > 180) & (frame[..., 1] > 160) & (frame[..., 2] < 90)
    assert (drawn & yellow).sum() > 50


def test_karaoke_times_every_word_with_k_tags(runner: OperationRunner, speech: Speech, tmp_path: Path,
                                              captured_ass: list[str]) -> None:
    result = run_job(runner, speech.video, tmp_path, style={"preset": "karaoke"})
    events = dialogues(captured_ass[-1])
    assert len(events) == result.details["cues"]
    spoken: list[str] = []
    for start, end, text in events:
        syllables = re.findall(r"\{\\k(\d+)\}([^{\\]*)", text)
        assert syllables, text
        # The \k durations fill the caption exactly (centiseconds), one per word (+ a lead-in).
        assert sum(int(k) for k, _ in syllables) == round((end - start) * 100)
        spoken.extend(word for _, word in syllables if word.strip())
    assert words_of(" ".join(spoken)) == words_of(speech.text)


def test_a_named_provider_transcribes_through_its_api(tmp_path: Path, speech: Speech,
                                                      captured_ass: list[str]) -> None:
    """provider=replicate: the speech track goes to the (fake) vendor as a small audio file and its
    documented word output becomes the captions."""
    server = FakeReplicate()
    server.polls_needed = 1
    server.output = {"detected_language": "english", "transcription": " Hola amigos.", "segments": [
        {"id": 0, "start": 0.6, "end": 1.8, "text": " Hola amigos.",
         "words": [{"word": " Hola", "start": 0.6, "end": 1.0, "probability": 0.9},
                   {"word": " amigos.", "start": 1.1, "end": 1.8, "probability": 0.9}]}]}
    try:
        services = build_services(embedded_settings(tmp_path / "data"))
        provider = ReplicateProvider(base_url=f"{server.url}/v1", api_key="r8_test", policy=policy())
        runner = OperationRunner(services, ProviderRegistry(transcribers={"replicate": provider}))
        result = run_job(runner, speech.video, tmp_path, provider="replicate", language="es")
    finally:
        server.stop()
    assert result.details["transcriber"] == "replicate" and result.details["language"] == "es"
    body = server.seen("POST", r"predictions$")[0].body
    assert body["input"]["audio"].startswith("data:audio/") and body["input"]["language"] == "es"
    assert len(body["input"]["audio"]) < 300_000  # the mono AAC track, not the video
    assert [plain(text) for _, _, text in dialogues(captured_ass[-1])] == ["Hola amigos."]


def test_text_captions_are_unchanged_in_kind(runner: OperationRunner, speech: Speech, tmp_path: Path,
                                             captured_ass: list[str]) -> None:
    """Text sources still work as before: no transcription, cues spread over the video."""
    result = run_job(runner, speech.video, tmp_path, text="First line of text. Second line here.", style="bold")
    assert result.details["source"] == "text" and "transcriber" not in result.details
    events = dialogues(captured_ass[-1])
    assert events[0][0] == 0.0 and events[-1][1] == pytest.approx(speech.duration, abs=0.02)


def test_a_silent_film_fails_with_a_clear_code(runner: OperationRunner, tmp_path: Path) -> None:
    from vidassets.execution.errors import classify
    from vidassets.media import default_profile, run_ffmpeg
    from vidassets.transcribe import TranscriptionError

    p = default_profile()
    mute = tmp_path / "mute.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x90:r=12:d=1", *p.video_args(), *p.container_args(), str(mute)])
    with pytest.raises(TranscriptionError) as info:
        run_job(runner, mute, tmp_path, language="en")
    failure = classify(info.value)
    assert failure.code == "no_audio" and not failure.retryable and "no audio" in failure.message


def test_settings_pick_a_vendor_for_a_language_the_offline_model_lacks(
        tmp_path: Path, speech: Speech, captured_ass: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from vidassets.settings import get_settings

    server = FakeReplicate()
    server.polls_needed = 1
    server.output = {"segments": [{"start": 0.5, "end": 1.5, "text": " Bonjour",
                                   "words": [{"word": " Bonjour", "start": 0.5, "end": 1.5}]}]}
    monkeypatch.setenv("VIDASSETS_REPLICATE_API_KEY", "r8_server_key_for_tests")
    get_settings.cache_clear()
    try:
        settings = embedded_settings(tmp_path / "data", replicate_api_key="r8_server_key_for_tests")
        provider = ReplicateProvider(base_url=f"{server.url}/v1", api_key="r8_server_key_for_tests", policy=policy())
        runner = OperationRunner(build_services(settings), ProviderRegistry(transcribers={"replicate": provider}))
        result = run_job(runner, speech.video, tmp_path, language="fr")
    finally:
        server.stop()
        get_settings.cache_clear()
    assert result.details["transcriber"] == "replicate" and result.details["language"] == "fr"
    assert server.seen("POST", r"predictions$")[0].headers["authorization"] == "Bearer r8_server_key_for_tests"
    assert [plain(text) for _, _, text in dialogues(captured_ass[-1])] == ["Bonjour"]
