"""The offline transcriber on real speech: espeak-ng audio, the bundled Whisper model, no network."""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.transcribe.conftest import Speech, words_of
from vidassets.media import default_profile, run_ffmpeg
from vidassets.transcribe import TranscriptionError, offline_languages, offline_model_name
from vidassets.transcribe.audio import build_extract_command, extract_speech, read_wav
from vidassets.transcribe.offline import MODEL_FILES, OfflineWhisper, bundled_model_dir, transcribe_offline


def test_bundled_model_is_a_local_ctranslate2_folder() -> None:
    folder = bundled_model_dir()
    assert all((folder / name).is_file() for name in MODEL_FILES)
    assert (folder / "model.bin").stat().st_size > 10_000_000
    assert offline_model_name() == "tiny.en" and offline_languages() == {"en"}


def test_transcript_is_the_spoken_words(speech: Speech, tmp_path: Path) -> None:
    transcript = transcribe_offline(speech.video, tmp_path, language="en")
    assert words_of(transcript.text) == words_of(speech.text)
    assert transcript.transcriber == "offline" and "tiny.en" in (transcript.model or "")
    assert transcript.language == "en"
    assert list(tmp_path.iterdir()) == []  # the extracted WAV is removed


def test_word_times_are_monotonic_and_inside_the_audio(speech: Speech, tmp_path: Path) -> None:
    words = transcribe_offline(speech.video, tmp_path).words
    for word in words:
        assert 0.0 <= word.start <= word.end <= speech.duration
    for a, b in itertools.pairwise(words):
        assert a.start <= b.start and a.end <= b.end + 1e-6
    # The words follow the speech: none before the clip's silent lead-in ends by much, the last near its end.
    assert words[0].start >= speech.speech_start - 0.5
    assert abs(words[-1].end - speech.speech_end) < 1.0
    # The two sentences are told apart in time: "Every" starts after "sound." ends.
    texts = [w.text.lower().strip(".,") for w in words]
    assert words[texts.index("every")].start >= words[texts.index("sound")].end


def test_extracted_audio_is_16k_mono(speech: Speech, tmp_path: Path) -> None:
    wav = extract_speech(speech.video, tmp_path / "s.wav")
    samples = read_wav(wav)
    assert samples.dtype.name == "float32" and abs(len(samples) / 16000 - speech.duration) < 0.1
    assert 0.01 < float(abs(samples).max()) <= 1.0
    argv = build_extract_command(speech.video, tmp_path / "s.m4a", "m4a")
    assert argv[argv.index("-ar") + 1] == "16000" and argv[argv.index("-ac") + 1] == "1"
    assert argv[argv.index("-c:a") + 1] == "aac"


def test_the_model_loads_once_for_all_threads(speech: Speech, tmp_path: Path) -> None:
    whisper = OfflineWhisper()
    loads: list[int] = []
    original = whisper._load

    def counting_load() -> Any:
        loads.append(1)
        return original()

    whisper._load = counting_load  # type: ignore[method-assign]
    models: list[Any] = []
    barrier = threading.Barrier(4)

    def grab() -> None:
        barrier.wait()
        models.append(whisper.model())

    threads = [threading.Thread(target=grab) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len({id(m) for m in models}) == 1
    wav = extract_speech(speech.video, tmp_path / "s.wav")
    results: list[list[str]] = []

    def run() -> None:
        results.append([w.text for w in whisper.transcribe_wav(wav)[0]])

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1] and len(loads) == 1


def test_it_never_reaches_a_model_hub(speech: Speech, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading goes by local path: every way faster-whisper could download is made to fail."""
    import faster_whisper.transcribe
    import faster_whisper.utils
    import huggingface_hub

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to download a model")

    monkeypatch.setattr(faster_whisper.utils, "download_model", no_network)
    monkeypatch.setattr(faster_whisper.transcribe, "download_model", no_network)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_network)
    transcript = transcribe_offline(speech.video, tmp_path, whisper=OfflineWhisper())
    assert words_of(transcript.text) == words_of(speech.text)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_a_video_without_sound_is_a_clear_error(tmp_path: Path) -> None:
    p = default_profile()
    clip = tmp_path / "mute.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x90:r=12:d=1", *p.video_args(), *p.container_args(), str(clip)])
    with pytest.raises(TranscriptionError) as info:
        transcribe_offline(clip, tmp_path)
    assert info.value.code == "no_audio"


def test_silence_is_no_speech_not_invented_words(tmp_path: Path) -> None:
    p = default_profile()
    clip = tmp_path / "quiet.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=160x90:r=12:d=3", "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono:d=3",
                "-map", "0:v", "-map", "1:a", "-shortest", *p.video_args(), *p.audio_args(), *p.container_args(),
                str(clip)])
    with pytest.raises(TranscriptionError) as info:
        transcribe_offline(clip, tmp_path)
    assert info.value.code == "no_speech"


def test_a_missing_model_package_is_unavailable_not_a_download(monkeypatch: pytest.MonkeyPatch) -> None:
    import vidassets.transcribe.offline as offline

    monkeypatch.setattr(offline, "OFFLINE_MODEL_PACKAGE", "no_such_model_package_xyz")
    with pytest.raises(TranscriptionError) as info:
        OfflineWhisper().model()
    assert info.value.code == "transcriber_unavailable"


def test_a_folder_without_the_model_files_is_unavailable(tmp_path: Path) -> None:
    for name in ("model.bin", "config.json", "vocabulary.txt"):  # no tokenizer.json: the hub would be asked
        (tmp_path / name).write_bytes((bundled_model_dir() / name).read_bytes())
    with pytest.raises(TranscriptionError) as info:
        OfflineWhisper(tmp_path).model()
    assert info.value.code == "transcriber_unavailable" and "tokenizer.json" in str(info.value)
