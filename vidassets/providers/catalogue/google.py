"""Google Veo, on Vertex AI and on the Gemini API: the ``parameters`` of a ``predictLongRunning`` call.

Both surfaces take ``{"instances": [{prompt, image?, lastFrame?}], "parameters": {...}}``; the
instance (the prompt and the start/end frames, sent as bytes or ``gs://``) is built by the client,
the specs here cover ``parameters``. Google answers a value it does not take with a 400
``INVALID_ARGUMENT``. Sources:

* Vertex: https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation
  (Veo 2: 5..8 s, no ``resolution``; Veo 3: 4, 6 or 8 s, 720p/1080p, ``generateAudio`` required);
* Gemini API: https://ai.google.dev/gemini-api/docs/video (same names; audio is always generated
  by Veo 3 there, so there is no ``generateAudio``; ``sampleCount`` is not offered).

Outputs: Vertex ``{"videos": [{"bytesBase64Encoded" | "gcsUri", "mimeType"}]}``; Gemini
``{"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}]}}``.
"""

from __future__ import annotations

from vidassets.providers.catalogue.spec import Input, ModelSpec, Route

VERTEX_SOURCE = "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/veo-video-generation"
GEMINI_SOURCE = "https://ai.google.dev/gemini-api/docs/video"
VERTEX_OUTPUT = '{"videos": [{"bytesBase64Encoded" | "gcsUri", "mimeType"}]}'
GEMINI_OUTPUT = '{"generateVideoResponse": {"generatedSamples": [{"video": {"uri"}}]}}'
_ROUTES = (Route("aspectRatio", "aspectRatio"), Route("duration", "durationSeconds"), Route("seed", "seed"),
           Route("negativePrompt", "negativePrompt"))
_ROUTES_3 = (*_ROUTES, Route("resolution", "resolution"))
_COMMON = {"aspectRatio": Input(choices=("16:9", "9:16"), default="16:9"),
           "seed": Input("integer", minimum=0, maximum=4294967295), "negativePrompt": Input(),
           "personGeneration": Input(choices=("allow_adult", "dont_allow", "allow_all"), default="allow_adult")}
_VERTEX = {**_COMMON, "sampleCount": Input("integer", minimum=1, maximum=4, default=1), "storageUri": Input(),
           "enhancePrompt": Input("boolean", default=True)}


def _vertex(model: str, veo3: bool) -> ModelSpec:
    inputs = dict(_VERTEX)
    if veo3:
        inputs.update(durationSeconds=Input("integer", choices=(4, 6, 8), default=8),
                      resolution=Input(choices=("720p", "1080p"), default="720p"),
                      generateAudio=Input("boolean", required=True))
    else:
        inputs["durationSeconds"] = Input("integer", minimum=5, maximum=8, default=8)
    # One video per request (we keep the first); Veo 3 needs generateAudio set.
    fixed = {"sampleCount": 1, **({"generateAudio": True} if veo3 else {})}
    return ModelSpec(provider="google-cloud", model=model, job="generate", source=VERTEX_SOURCE, inputs=inputs,
                     routes=_ROUTES_3 if veo3 else _ROUTES, output=VERTEX_OUTPUT, fixed=fixed, surface="vertex",
                     handled=("prompt", "startImage", "endImage"))


def _gemini(model: str, veo3: bool) -> ModelSpec:
    inputs = dict(_COMMON)
    if veo3:
        inputs.update(durationSeconds=Input("integer", choices=(4, 6, 8), default=8),
                      resolution=Input(choices=("720p", "1080p"), default="720p"))
    else:
        inputs["durationSeconds"] = Input("integer", minimum=5, maximum=8, default=8)
    return ModelSpec(provider="google-cloud", model=model, job="generate", source=GEMINI_SOURCE, inputs=inputs,
                     routes=_ROUTES_3 if veo3 else _ROUTES, output=GEMINI_OUTPUT, surface="gemini",
                     handled=("prompt", "startImage"))


SPECS: tuple[ModelSpec, ...] = (
    _vertex("veo-2.0-generate-001", veo3=False),
    _vertex("veo-3.0-generate-001", veo3=True),
    _vertex("veo-3.0-fast-generate-001", veo3=True),
    _gemini("veo-2.0-generate-001", veo3=False),
    _gemini("veo-3.0-generate-001", veo3=True),
    _gemini("veo-3.0-fast-generate-001", veo3=True),
)
