"""What is refused at submit: transcriptions nobody configured can do, impossible cue timings,
unbounded numbers. Each is a 422 issue naming the job and the field."""

from __future__ import annotations

from typing import Any

import pytest

from vidassets.plan.errors import PlanValidationError
from vidassets.plan.models import PlanCreate
from vidassets.plan.normalize import normalize_request
from vidassets.transcribe import TranscriberProblem, choose_transcriber, normalise_language

GEN = {"id": "clip", "type": "generate", "params": {"prompt": "a talking head", "duration": 3}}


def submit(params: dict[str, Any]) -> dict[str, Any]:
    """The stored params of the caption job, or raise the plan's validation error."""
    body = PlanCreate.model_validate({"jobs": [GEN, {"id": "caps", "type": "addSubtitles", "params": params,
                                                      "dependsOn": ["clip"]}]})
    plan = normalize_request(body).plan
    return dict(next(j for j in plan.jobs if j.id == "caps").params)


def issue(params: dict[str, Any]) -> tuple[str, str, str | None]:
    with pytest.raises(PlanValidationError) as info:
        submit(params)
    found = info.value.issues[0]
    return found.field, found.message, found.job_id


def test_the_sdk_shape_is_accepted_and_means_transcription() -> None:
    assert submit({"language": "en", "style": "default"}) == {"language": "en", "style": {"preset": "default"}}
    assert submit({}) == {"style": {"preset": "default"}}
    assert submit({"language": "en-US", "style": "minimal"})["language"] == "en-US"


@pytest.mark.parametrize(
    ("params", "field", "words"),
    [
        ({"language": "ar"}, "jobs[1].params.language", "offline transcriber"),
        ({"language": "zh-CN", "style": "bold"}, "jobs[1].params.language", "'replicate' or 'fal'"),
        ({"language": "xx", "provider": "fal"}, "jobs[1].params.language", "Whisper"),
        ({"language": "qq", "provider": "replicate"}, "jobs[1].params.language", "Whisper"),
        ({"provider": "google-cloud"}, "jobs[1].params.provider", "does not transcribe"),
        ({"provider": "url", "language": "en"}, "jobs[1].params.provider", "does not transcribe"),
        ({"language": "english!"}, "jobs[1].params.language", "pattern"),
    ],
)
def test_transcriptions_nobody_can_do_are_refused(params: dict[str, Any], field: str, words: str) -> None:
    where, message, job = issue(params)
    assert (where, job) == (field, "caps") and words in message


def test_what_vendors_and_named_models_can_do_is_accepted() -> None:
    assert submit({"language": "ar", "provider": "replicate"})["provider"] == "replicate"
    assert submit({"language": "ja", "provider": "fal"})["language"] == "ja"
    # A model the plan names may know languages Whisper does not: the vendor judges.
    assert submit({"language": "xx", "provider": "fal", "model": "fal-ai/custom-asr"})["model"] == "fal-ai/custom-asr"
    # With text given, language and provider are not about transcription.
    assert submit({"text": "hi", "language": "ar", "provider": "google-cloud"})["text"] == "hi"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"srt": "1\n00:00:01,000 --> 00:00:02,000\na\n\n2\n00:00:02,000 --> 00:00:03,000\nb\n\n"
                 "3\n00:00:02,000 --> 00:00:01,000\nc\n"},
         "jobs[1].params.srt", "srt: cue 3: end 00:00:01,000 is before start 00:00:02,000"),
        ({"srt": "1\n-00:00:01,000 --> 00:00:02,000\nx\n"}, "jobs[1].params.srt", "srt: cue 1: negative time"),
        ({"vtt": "WEBVTT\n\n00:00:01.000 --> 07:00:00.000\nx\n"}, "jobs[1].params.vtt",
         "vtt: cue 1: end 07:00:00.000 is beyond 6 hours"),
        ({"subtitles": "WEBVTT\n\n00:00:03.000 --> 00:00:02.000\nx\n"}, "jobs[1].params.subtitles",
         "vtt: cue 1: end 00:00:02.000 is before start 00:00:03.000"),
        ({"vtt": "00:00:01.000 --> 00:00:02.000\nno header\n"}, "jobs[1].params.vtt", "not a WebVTT file"),
    ],
)
def test_impossible_cue_timings_name_the_cue(params: dict[str, Any], field: str, message: str) -> None:
    where, text, job = issue(params)
    assert (where, job) == (field, "caps") and text.startswith(message)


def test_overlapping_cues_are_fine() -> None:
    srt = "1\n00:00:00,000 --> 00:00:03,000\na\n\n2\n00:00:01,000 --> 00:00:02,000\nb\n"
    assert submit({"srt": srt})["srt"].startswith("1\n")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"words": [{"word": "a", "start": 2, "end": 1}]}, "jobs[1].params.words"),
        ({"words": [{"word": "a", "start": -1, "end": 1}]}, "jobs[1].params.words"),
        ({"words": [{"word": "a", "start": 0, "end": 1e9}]}, "jobs[1].params.words"),
        ({"words": [{"word": "x" * 201, "start": 0, "end": 1}]}, "jobs[1].params.words"),
        ({"words": [{"word": "a", "start": 0, "end": 1}] * 20_001}, "jobs[1].params.words"),
        ({"style": {"fontSize": 201}}, "jobs[1].params.style.fontSize"),
        ({"style": {"maxLines": 5}}, "jobs[1].params.style.maxLines"),
        ({"style": {"maxWords": 0}}, "jobs[1].params.style.maxWords"),
        ({"style": {"animation": "explode"}}, "jobs[1].params.style.animation"),
        ({"style": {"highlight": "glow"}}, "jobs[1].params.style.highlight"),
        ({"style": "neon"}, "jobs[1].params.style.preset"),
        ({"highlightColor": "#12"}, "jobs[1].params.style.highlightColor"),
    ],
)
def test_every_number_and_name_is_bounded(params: dict[str, Any], field: str) -> None:
    where, _, job = issue(params)
    assert (where, job) == (field, "caps")


def test_non_finite_word_times_are_refused() -> None:
    where, _, _ = issue({"words": [{"word": "a", "start": 0, "end": float("nan")}]})
    assert where.startswith("jobs[1].params.words")


def test_style_presets_aliases_and_options() -> None:
    assert submit({"style": "TikTok"})["style"] == {"preset": "tiktok"}
    assert submit({"style": "highlight"})["style"] == {"preset": "tiktok"}
    assert submit({"style": "Shorts"})["style"] == {"preset": "tiktok"}
    assert submit({"style": "karaoke"})["style"] == {"preset": "karaoke"}
    stored = submit({"style": {"preset": "bold", "animation": "Slide-Up", "highlightActiveWord": True,
                               "activeWordColor": "green", "wordsPerCaption": 3, "maxLines": 1, "uppercase": True}})
    assert stored["style"] == {"preset": "bold", "animation": "slide", "highlight": "word",
                               "highlightColor": "#00FF00", "maxWords": 3, "maxLines": 1, "uppercase": True}
    for animation in ("none", "fade", "slide", "typewriter", "pop"):
        assert submit({"text": "x", "animation": animation})["style"]["animation"] == animation


def test_choose_transcriber() -> None:
    assert choose_transcriber(None, None, "en-GB").offline
    assert choose_transcriber("local", None, None).language is None
    vendor = choose_transcriber("fal", None, "iw")
    assert (vendor.provider, vendor.language, vendor.offline) == ("fal", "he", False)
    with pytest.raises(TranscriberProblem) as info:
        choose_transcriber(None, None, "de")
    assert info.value.field == "language"
    assert normalise_language("PT_br") == "pt"
    with pytest.raises(ValueError):
        normalise_language("not a language")


def test_a_server_key_lets_a_vendor_take_other_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings choose too: with a Replicate key configured, Arabic without a provider is fine
    (Replicate transcribes it); without any key it is refused."""
    from vidassets.settings import get_settings
    from vidassets.transcribe import configured_vendors

    monkeypatch.delenv("VIDASSETS_REPLICATE_API_KEY", raising=False)
    monkeypatch.delenv("VIDASSETS_FAL_API_KEY", raising=False)
    get_settings.cache_clear()
    try:
        assert issue({"language": "ar"})[0] == "jobs[1].params.language"
        monkeypatch.setenv("VIDASSETS_FAL_API_KEY", "fal-key-for-tests")
        get_settings.cache_clear()
        assert configured_vendors(get_settings()) == ("fal",)
        assert submit({"language": "ar"})["language"] == "ar"
        assert issue({"language": "xx"})[0] == "jobs[1].params.language"  # not a Whisper language either
        assert issue({"language": "ar", "provider": "local"})[0] == "jobs[1].params.language"  # local is local
    finally:
        get_settings.cache_clear()
    choice = choose_transcriber(None, None, "ar", fallbacks=("replicate", "fal"))
    assert (choice.provider, choice.language) == ("replicate", "ar")
    assert choose_transcriber(None, None, "en", fallbacks=("replicate",)).offline
