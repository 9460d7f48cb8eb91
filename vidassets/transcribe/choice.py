"""Which transcriber runs a caption job: decided from the plan alone, so it can be checked at submit.

No provider (or ``local``) means the offline default; ``replicate`` and ``fal`` run their hosted
Whisper models. When the plan names no provider and the offline model does not speak the
language, a vendor the server holds a key for (settings) takes over. A language is only refused
when we *know* nobody configured can transcribe it: the offline model's languages (English for
the bundled ``tiny.en``), Whisper's languages for the vendors' default models. A model the plan
names itself may know more, so its language is the vendor's to judge (a refusal then fails the
job with the vendor's error).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .languages import OFFLINE_NAME, WHISPER_LANGUAGES, normalise_language, offline_languages, offline_model_name

#: Providers with a hosted transcription model (see ``vidassets.providers.registry``).
VENDOR_TRANSCRIBERS: tuple[str, ...] = ("replicate", "fal")


class TranscriberProblem(ValueError):
    """The plan asks for a transcription nobody can do; ``field`` is the param to blame."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class TranscriberChoice:
    provider: str  # "offline", "replicate" or "fal"
    model: str | None
    language: str | None  # a Whisper language code, or None to let the model decide

    @property
    def offline(self) -> bool:
        return self.provider == OFFLINE_NAME


def configured_vendors(settings: Any) -> tuple[str, ...]:
    """Vendors the server holds a key for (``VIDASSETS_REPLICATE_API_KEY``, ``VIDASSETS_FAL_API_KEY``),
    in preference order: the ones that can take over a language the offline model lacks."""
    return tuple(name for name in VENDOR_TRANSCRIBERS if getattr(settings, f"{name}_api_key", None))


def choose_transcriber(provider: str | None, model: str | None, language: str | None, *,
                       fallbacks: Sequence[str] = ()) -> TranscriberChoice:
    """The transcriber for a caption job without text, or :class:`TranscriberProblem`.

    ``fallbacks`` (see :func:`configured_vendors`) transcribe languages the offline model does
    not, when the plan names no provider.
    """
    try:
        code = normalise_language(language) if language else None
    except ValueError as exc:
        raise TranscriberProblem("language", str(exc)) from None
    if provider in (None, "local"):
        known = offline_languages()
        if code is not None and known is not None and code not in known:
            vendor = next((name for name in fallbacks if name in VENDOR_TRANSCRIBERS), None)
            if vendor is not None and provider is None and code in WHISPER_LANGUAGES:
                return TranscriberChoice(vendor, None, code)
            handled = "English only" if known == {"en"} else f"{len(known)} languages"
            raise TranscriberProblem(
                "language",
                f"language {language!r} is not transcribed by the offline transcriber (Whisper "
                f"{offline_model_name()}, {handled}); set provider to 'replicate' or 'fal' to transcribe it")
        return TranscriberChoice(OFFLINE_NAME, None, code)
    if provider not in VENDOR_TRANSCRIBERS:
        raise TranscriberProblem(
            "provider", f"provider {provider!r} does not transcribe speech; use 'replicate' or 'fal', "
                        "or leave provider out for the offline transcriber")
    if code is not None and model is None and code not in WHISPER_LANGUAGES:
        raise TranscriberProblem(
            "language", f"language {language!r} is not one that {provider}'s Whisper model transcribes")
    return TranscriberChoice(provider, model, code)
