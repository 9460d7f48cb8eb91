"""fal endpoints, from each endpoint's published input schema (``fal.ai/models/{id}/llms.txt``).

fal validates a request body against the endpoint's pydantic model when it is queued: a value
outside an enum is a 422 whose ``detail`` lists ``{loc, msg, type}``. Text- and image-to-video
are separate endpoints of one model, so each spec names its sibling (``with_image`` /
``without_image``) and the client picks the one that matches the plan's start image.
Durations are strings on fal: Kling and Hailuo take ``"5"``/``"10"`` and ``"6"``/``"10"``,
Veo 3 takes ``"4s"``/``"6s"``/``"8s"``. Outputs are ``{"video": {"url", "content_type", ...}}``;
image endpoints answer ``{"images": [{"url", "content_type", ...}]}`` (Nano Banana: text to
image, and ``/edit`` for input images, siblings like text- and image-to-video).
"""

from __future__ import annotations

from vidassets.providers.catalogue.spec import Input, ModelSpec, Route, fal_image_format, sync_mode_from_fit

VIDEO_FILE = '{"video": {"url", "content_type", "file_name", "file_size"}}'
IMAGE_FILES = '{"images": [{"url", "content_type", "file_name", "file_size"}], "description"}'
_NANO_BANANA = "fal-ai/nano-banana"
_NANO_BANANA_ASPECTS = ("21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16")
_KLING = "fal-ai/kling-video/v2.1"
_VEO3 = "fal-ai/veo3"
_HAILUO = "fal-ai/minimax/hailuo-02/standard"


def _kling(endpoint: str, source: str, *, image: bool, sibling: str | None) -> ModelSpec:
    inputs = {"prompt": Input(required=True), "duration": Input(choices=("5", "10"), default="5"),
              "negative_prompt": Input(default="blur, distort, and low quality"),
              "cfg_scale": Input("number", minimum=0, maximum=1, default=0.5)}
    routes = [Route("prompt", "prompt"), Route("duration", "duration"), Route("negativePrompt", "negative_prompt")]
    if image:
        inputs["image_url"] = Input("url", required=True)
        routes.append(Route("startImage", "image_url"))
    else:
        inputs["aspect_ratio"] = Input(choices=("16:9", "9:16", "1:1"), default="16:9")
        routes.append(Route("aspectRatio", "aspect_ratio"))
    return ModelSpec(provider="fal", model=endpoint, job="generate", source=source, inputs=inputs,
                     routes=tuple(routes), output=VIDEO_FILE, with_image=None if image else sibling,
                     without_image=sibling if image else None)


def _veo3(endpoint: str, source: str, *, image: bool, sibling: str) -> ModelSpec:
    aspects = ("auto", "16:9", "9:16") if image else ("16:9", "9:16", "1:1")
    inputs = {"prompt": Input(required=True), "aspect_ratio": Input(choices=aspects, default=aspects[0]),
              "duration": Input(choices=("4s", "6s", "8s"), default="8s", suffix="s"),
              "negative_prompt": Input(), "resolution": Input(choices=("720p", "1080p"), default="720p"),
              "generate_audio": Input("boolean", default=True), "seed": Input("integer"),
              "auto_fix": Input("boolean", default=True)}
    routes = [Route("prompt", "prompt"), Route("aspectRatio", "aspect_ratio"), Route("duration", "duration"),
              Route("negativePrompt", "negative_prompt"), Route("resolution", "resolution"), Route("seed", "seed")]
    if image:
        inputs["image_url"] = Input("url", required=True)
        routes.append(Route("startImage", "image_url"))
    else:
        inputs["enhance_prompt"] = Input("boolean", default=True)
    return ModelSpec(provider="fal", model=endpoint, job="generate", source=source, inputs=inputs,
                     routes=tuple(routes), output=VIDEO_FILE, with_image=None if image else sibling,
                     without_image=sibling if image else None)


def _hailuo(endpoint: str, source: str, *, image: bool, sibling: str) -> ModelSpec:
    inputs = {"prompt": Input(required=True), "duration": Input(choices=("6", "10"), default="6"),
              "prompt_optimizer": Input("boolean", default=True)}
    routes = [Route("prompt", "prompt"), Route("duration", "duration")]
    if image:
        inputs.update(image_url=Input("url", required=True), end_image_url=Input("url"),
                      resolution=Input(choices=("512P", "768P"), default="768P"))
        routes += [Route("startImage", "image_url"), Route("endImage", "end_image_url")]
    return ModelSpec(provider="fal", model=endpoint, job="generate", source=source, inputs=inputs,
                     routes=tuple(routes), output=VIDEO_FILE, with_image=None if image else sibling,
                     without_image=sibling if image else None)


_SYNC_MODES = ("cut_off", "loop", "bounce", "silence", "remap")

def _fabric(endpoint: str) -> ModelSpec:
    """VEED Fabric: a still and a speech track make a talking video (its length: the speech's)."""
    return ModelSpec(
        provider="fal", model=endpoint, job="generate", source=f"https://fal.ai/models/{endpoint}/llms.txt",
        inputs={"image_url": Input("url", required=True), "audio_url": Input("url", required=True),
                "resolution": Input(choices=("720p", "480p"), required=True, default="720p")},
        routes=(Route("startImage", "image_url"), Route("audio", "audio_url"), Route("resolution", "resolution")),
        output=VIDEO_FILE)


SPECS: tuple[ModelSpec, ...] = (
    # https://fal.ai/models/veed/fabric-1.0/llms.txt (and /fast): image_url, audio_url, resolution
    _fabric("veed/fabric-1.0"), _fabric("veed/fabric-1.0/fast"),
    # https://fal.ai/models/fal-ai/kling-video/v2.1/master/text-to-video/llms.txt
    _kling(f"{_KLING}/master/text-to-video", f"https://fal.ai/models/{_KLING}/master/text-to-video/llms.txt",
           image=False, sibling=f"{_KLING}/master/image-to-video"),
    # https://fal.ai/models/fal-ai/kling-video/v2.1/master/image-to-video/llms.txt
    _kling(f"{_KLING}/master/image-to-video", f"https://fal.ai/models/{_KLING}/master/image-to-video/llms.txt",
           image=True, sibling=f"{_KLING}/master/text-to-video"),
    # https://fal.ai/models/fal-ai/kling-video/v2.1/standard/image-to-video/llms.txt (no text-to-video sibling)
    _kling(f"{_KLING}/standard/image-to-video", f"https://fal.ai/models/{_KLING}/standard/image-to-video/llms.txt",
           image=True, sibling=None),
    # https://fal.ai/models/fal-ai/veo3/llms.txt and https://fal.ai/models/fal-ai/veo3/image-to-video/llms.txt
    _veo3(_VEO3, f"https://fal.ai/models/{_VEO3}/llms.txt", image=False, sibling=f"{_VEO3}/image-to-video"),
    _veo3(f"{_VEO3}/image-to-video", f"https://fal.ai/models/{_VEO3}/image-to-video/llms.txt", image=True,
          sibling=_VEO3),
    # https://fal.ai/models/fal-ai/minimax/hailuo-02/standard/text-to-video/llms.txt (768p only)
    _hailuo(f"{_HAILUO}/text-to-video", f"https://fal.ai/models/{_HAILUO}/text-to-video/llms.txt", image=False,
            sibling=f"{_HAILUO}/image-to-video"),
    # https://fal.ai/models/fal-ai/minimax/hailuo-02/standard/image-to-video/llms.txt
    _hailuo(f"{_HAILUO}/image-to-video", f"https://fal.ai/models/{_HAILUO}/image-to-video/llms.txt", image=True,
            sibling=f"{_HAILUO}/text-to-video"),
    # https://fal.ai/models/fal-ai/sync-lipsync/v2/llms.txt
    ModelSpec(
        provider="fal", model="fal-ai/sync-lipsync/v2", job="lip_sync", output=VIDEO_FILE,
        source="https://fal.ai/models/fal-ai/sync-lipsync/v2/llms.txt",
        inputs={"video_url": Input("url", required=True), "audio_url": Input("url", required=True),
                "model": Input(choices=("lipsync-2", "lipsync-2-pro"), default="lipsync-2"),
                "sync_mode": Input(choices=_SYNC_MODES, default="cut_off")},
        routes=(Route("fit", "sync_mode", sync_mode_from_fit),)),
    # https://fal.ai/models/fal-ai/sync-lipsync/api (sync.so's 1.x models behind the same input shape)
    ModelSpec(
        provider="fal", model="fal-ai/sync-lipsync", job="lip_sync", output=VIDEO_FILE,
        source="https://fal.ai/models/fal-ai/sync-lipsync/api",
        inputs={"video_url": Input("url", required=True), "audio_url": Input("url", required=True),
                "model": Input(choices=("lipsync-1.7.1", "lipsync-1.8.0", "lipsync-1.9.0-beta"),
                               default="lipsync-1.9.0-beta"),
                "sync_mode": Input(choices=_SYNC_MODES, default="cut_off")},
        routes=(Route("fit", "sync_mode", sync_mode_from_fit),)),
    # https://fal.ai/models/fal-ai/whisper/llms.txt (chunk_level "word" gives a chunk per word)
    ModelSpec(
        provider="fal", model="fal-ai/whisper", job="transcribe", source="https://fal.ai/models/fal-ai/whisper/llms.txt",
        output='{"text", "chunks": [{"timestamp": [start, end], "text", "speaker"?}], "inferred_languages"}',
        inputs={"audio_url": Input("url", required=True), "task": Input(choices=("transcribe", "translate"),
                                                                        default="transcribe"),
                "language": Input(), "diarize": Input("boolean", default=False),
                "chunk_level": Input(choices=("none", "segment", "word"), default="segment"),
                "version": Input(choices=("3",), default="3"), "batch_size": Input("integer", default=64),
                "prompt": Input(), "num_speakers": Input("integer")},
        routes=(Route("language", "language"),), fixed={"task": "transcribe", "chunk_level": "word"}),

    # -- still images (generateImage) ---------------------------------------------------------------------
    # https://fal.ai/models/fal-ai/nano-banana/llms.txt: text to image. The SDK's mapping sends prompt,
    # aspect_ratio and output_format (its jpg is fal's jpeg); input images go to the edit endpoint.
    ModelSpec(
        provider="fal", model=_NANO_BANANA, job="image", output=IMAGE_FILES,
        source=f"https://fal.ai/models/{_NANO_BANANA}/llms.txt",
        inputs={"prompt": Input(required=True), "num_images": Input("integer", minimum=1, maximum=4, default=1),
                "aspect_ratio": Input(choices=_NANO_BANANA_ASPECTS, default="1:1"),
                "output_format": Input(choices=("jpeg", "png", "webp"), default="png"),
                "sync_mode": Input("boolean", default=False)},
        routes=(Route("prompt", "prompt"), Route("aspectRatio", "aspect_ratio"),
                Route("outputFormat", "output_format", fal_image_format)),
        with_image=f"{_NANO_BANANA}/edit"),
    # https://fal.ai/models/fal-ai/nano-banana/edit/llms.txt: the same model editing image_urls.
    ModelSpec(
        provider="fal", model=f"{_NANO_BANANA}/edit", job="image", output=IMAGE_FILES,
        source=f"https://fal.ai/models/{_NANO_BANANA}/edit/llms.txt",
        inputs={"prompt": Input(required=True), "image_urls": Input("array", required=True),
                "num_images": Input("integer", minimum=1, maximum=4, default=1),
                "aspect_ratio": Input(choices=("auto", *_NANO_BANANA_ASPECTS), default="auto"),
                "output_format": Input(choices=("jpeg", "png", "webp"), default="png"),
                "sync_mode": Input("boolean", default=False)},
        routes=(Route("prompt", "prompt"), Route("image", "image_urls"), Route("aspectRatio", "aspect_ratio"),
                Route("outputFormat", "output_format", fal_image_format)),
        without_image=_NANO_BANANA),
)
