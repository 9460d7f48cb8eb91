"""Replicate models, from each model version's published input schema.

Replicate validates a prediction's input against the version's OpenAPI schema: a value outside an
enum or a range is a 422, an input the schema does not declare is dropped without a word (so a
start frame sent under the wrong name silently becomes text-to-video). Sources are the
``/versions/{id}/api`` pages named beside each spec; ``owner/name`` runs the model's latest
version, so a spec is checked against the version that was latest when it was written.
Community models (not Replicate's official ones) run only at a version: their spec carries the
``version`` the client sends when a plan names none.
"""

from __future__ import annotations

from vidassets.providers.catalogue.spec import (
    Input,
    ModelSpec,
    Route,
    camera_fixed,
    sync_mode_from_fit,
    text_voice,
    wan_size,
)

URI_STRING = "a URI string (the mp4)"
IMAGE_URI = "a URI string (the image)"
IMAGE_URIS = "a list of URI strings (the images)"
_NANO_BANANA_ASPECTS = ("match_input_image", "1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
_SEEDREAM_ASPECTS = ("match_input_image", "1:1", "4:3", "3:4", "16:9", "9:16", "3:2", "2:3", "21:9")
_SEEDANCE_ASPECTS = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9", "9:21")
_SEEDANCE_ROUTES = (
    Route("prompt", "prompt"), Route("startImage", "image"), Route("endImage", "last_frame_image"),
    Route("duration", "duration"), Route("resolution", "resolution"), Route("aspectRatio", "aspect_ratio"),
    Route("fps", "fps"), Route("seed", "seed"), Route("cameraMotion", "camera_fixed", camera_fixed),
)


def _seedance(model: str, source: str, resolution_default: str, **more: Input) -> ModelSpec:
    return ModelSpec(
        provider="replicate", model=model, job="generate", source=source, output=URI_STRING, routes=_SEEDANCE_ROUTES,
        inputs={
            "prompt": Input(required=True), "image": Input("url"), "last_frame_image": Input("url"),
            "duration": Input("integer", minimum=2, maximum=12, default=5),
            "resolution": Input(choices=("480p", "720p", "1080p"), default=resolution_default),
            "aspect_ratio": Input(choices=_SEEDANCE_ASPECTS, default="16:9"),
            "fps": Input("integer", choices=(24,), default=24), "seed": Input("integer"),
            "camera_fixed": Input("boolean", default=False), **more,
        })


_VEO3_ROUTES = (Route("prompt", "prompt"), Route("startImage", "image"), Route("duration", "duration"),
                Route("aspectRatio", "aspect_ratio"), Route("resolution", "resolution"),
                Route("negativePrompt", "negative_prompt"), Route("seed", "seed"))


def _veo3(model: str, source: str, resolution_default: str) -> ModelSpec:
    return ModelSpec(
        provider="replicate", model=model, job="generate", source=source, output=URI_STRING, routes=_VEO3_ROUTES,
        inputs={
            "prompt": Input(required=True), "image": Input("url"), "negative_prompt": Input(),
            "aspect_ratio": Input(choices=("16:9", "9:16"), default="16:9"),
            "duration": Input("integer", choices=(4, 6, 8), default=8),
            "resolution": Input(choices=("720p", "1080p"), default=resolution_default),
            "generate_audio": Input("boolean", default=True), "seed": Input("integer"),
        })


SPECS: tuple[ModelSpec, ...] = (
    # https://replicate.com/bytedance/seedance-1-pro/versions/a5fd550893da3b6f67997812759065652454ddaca10e96b83b59cbae1814cb36/api
    # (the SDK's model-schemas package maps startImage->image, endImage->last_frame_image, cameraMotion->camera_fixed)
    _seedance("bytedance/seedance-1-pro",
              "https://replicate.com/bytedance/seedance-1-pro/versions/a5fd5508/api", "1080p"),
    # https://replicate.com/bytedance/seedance-1-lite/versions/f22bbc7d965c70af30ba3b157e3bb05d232136555885e934b92878ad773f48c1/api
    _seedance("bytedance/seedance-1-lite",
              "https://replicate.com/bytedance/seedance-1-lite/versions/f22bbc7d/api", "720p",
              reference_images=Input("array")),
    # https://replicate.com/minimax/hailuo-02/versions/c43b610efe40d08a28d2c07cb3515dab1cd3324dfc7418f3304a092571071d22/api
    # 10 s is only made at 768p (Replicate refuses 10 s at 1080p).
    ModelSpec(
        provider="replicate", model="minimax/hailuo-02", job="generate", output=URI_STRING,
        source="https://replicate.com/minimax/hailuo-02/versions/c43b610e/api",
        inputs={"prompt": Input(required=True), "first_frame_image": Input("url"), "last_frame_image": Input("url"),
                "duration": Input("integer", choices=(6, 10), default=6),
                "resolution": Input(choices=("512p", "768p", "1080p"), default="1080p"),
                "prompt_optimizer": Input("boolean", default=True)},
        routes=(Route("prompt", "prompt"), Route("startImage", "first_frame_image"),
                Route("endImage", "last_frame_image"), Route("duration", "duration"), Route("resolution", "resolution"))),
    # https://replicate.com/minimax/video-01/versions/608bbe118537f175d1078bbe8cb0b4f656992c14fc80b6a07f53c9a8ad304159/api
    # (6 s at 720p, aspect ratio from the first frame; no duration, size or seed inputs)
    ModelSpec(
        provider="replicate", model="minimax/video-01", job="generate", output=URI_STRING,
        source="https://replicate.com/minimax/video-01/versions/608bbe11/api",
        inputs={"prompt": Input(required=True), "first_frame_image": Input("url"), "subject_reference": Input("url"),
                "prompt_optimizer": Input("boolean", default=True)},
        routes=(Route("prompt", "prompt"), Route("startImage", "first_frame_image"))),
    # https://replicate.com/kwaivgi/kling-v2.1/versions/daad218feb714b03e2a1ac445986aebb9d05243cd00da2af17be2e4049f48f69/api
    # "You must use a start image with kling-v2.1"; an end image needs mode "pro".
    ModelSpec(
        provider="replicate", model="kwaivgi/kling-v2.1", job="generate", output=URI_STRING,
        source="https://replicate.com/kwaivgi/kling-v2.1/versions/daad218f/api",
        inputs={"prompt": Input(required=True), "start_image": Input("url", required=True), "end_image": Input("url"),
                "mode": Input(choices=("standard", "pro"), default="standard"),
                "duration": Input("integer", choices=(5, 10), default=5), "negative_prompt": Input()},
        routes=(Route("prompt", "prompt"), Route("startImage", "start_image"), Route("endImage", "end_image"),
                Route("duration", "duration"), Route("negativePrompt", "negative_prompt"))),
    # https://replicate.com/google/veo-3-fast/versions/368d4063e21ecf73746b8e6d27989837d97ba07b5eca43a4e5488c852e10c2ec/api
    # google/veo-3 runs the same Google model at full quality and publishes the same inputs.
    _veo3("google/veo-3", "https://replicate.com/google/veo-3-fast/versions/368d4063/api (same inputs)", "1080p"),
    _veo3("google/veo-3-fast", "https://replicate.com/google/veo-3-fast/versions/368d4063/api", "1080p"),
    # https://replicate.com/wan-video/wan-2.5-i2v/versions/b4ebd9b0f1d222dca88ccb225e8e282c3d9311cbd19845f37cff6e4c30117d21/api
    ModelSpec(
        provider="replicate", model="wan-video/wan-2.5-i2v", job="generate", output=URI_STRING,
        source="https://replicate.com/wan-video/wan-2.5-i2v/versions/b4ebd9b0/api",
        inputs={"prompt": Input(required=True), "image": Input("url", required=True), "audio": Input("url"),
                "resolution": Input(choices=("480p", "720p", "1080p"), default="720p"),
                "duration": Input("integer", choices=(5, 10), default=5), "seed": Input("integer"),
                "negative_prompt": Input(), "enable_prompt_expansion": Input("boolean", default=True)},
        routes=(Route("prompt", "prompt"), Route("startImage", "image"), Route("duration", "duration"),
                Route("resolution", "resolution"), Route("seed", "seed"), Route("negativePrompt", "negative_prompt"))),
    # https://replicate.com/wan-video/wan-2.5-t2v-fast/versions/6f841a1987e137930daaffaec0a4b384d36633652358308d7ae06fc6606859a1/api
    ModelSpec(
        provider="replicate", model="wan-video/wan-2.5-t2v-fast", job="generate", output=URI_STRING,
        source="https://replicate.com/wan-video/wan-2.5-t2v-fast/versions/6f841a19/api",
        inputs={"prompt": Input(required=True), "negative_prompt": Input(), "audio": Input("url"),
                "size": Input(choices=("832*480", "480*832", "1280*720", "720*1280", "1920*1080", "1080*1920"),
                              default="1280*720"),
                "duration": Input("integer", choices=(5, 10), default=5),
                "enable_prompt_expansion": Input("boolean", default=True), "seed": Input("integer")},
        routes=(Route("prompt", "prompt"), Route("aspectRatio", "size", wan_size), Route("resolution", "size", wan_size),
                Route("duration", "duration"),
                Route("seed", "seed"), Route("negativePrompt", "negative_prompt"))),
    # https://replicate.com/sync/lipsync-2/versions/a058221e3f190a7dca4d527e65ee0f227291f521c11df0a488a832c4d36993de/api
    ModelSpec(
        provider="replicate", model="sync/lipsync-2", job="lip_sync", output=URI_STRING,
        source="https://replicate.com/sync/lipsync-2/versions/a058221e/api",
        inputs={"video": Input("url", required=True), "audio": Input("url", required=True), "text": Input(),
                "sync_mode": Input(choices=("loop", "bounce", "cut_off", "silence", "remap"), default="loop"),
                "temperature": Input("number", minimum=0, maximum=1, default=0.5),
                "active_speaker": Input("boolean", default=False),
                "occlusion_detection": Input("boolean", default=False)},
        routes=(Route("fit", "sync_mode", sync_mode_from_fit),)),
    # https://replicate.com/hnesk/whisper-wordtimestamps/versions/4a60104c44dd709fc08a03dfeca6c6906257633dd03fd58663ec896a4eeba30e/api
    # (openai/whisper with word_timestamps exposed; the pinned version is our default transcriber)
    ModelSpec(
        provider="replicate", model="hnesk/whisper-wordtimestamps", job="transcribe",
        source="https://replicate.com/hnesk/whisper-wordtimestamps/versions/4a60104c/api",
        output='{"segments": [{"start", "end", "text", "words": [{"word", "start", "end", "probability"}]}], '
               '"transcription", "detected_language"}',
        inputs={"audio": Input("url", required=True),
                "model": Input(choices=("tiny", "base", "small", "medium", "large-v1", "large-v2"), default="base"),
                "language": Input(), "temperature": Input("number", default=0), "patience": Input("number"),
                "suppress_tokens": Input(default="-1"), "initial_prompt": Input(),
                "condition_on_previous_text": Input("boolean", default=True),
                "temperature_increment_on_fallback": Input("number", default=0.2),
                "compression_ratio_threshold": Input("number", default=2.4),
                "logprob_threshold": Input("number", default=-1), "no_speech_threshold": Input("number", default=0.6),
                "word_timestamps": Input("boolean", default=False)},
        routes=(Route("language", "language"),), fixed={"word_timestamps": True}),
    # https://replicate.com/vaibhavs10/incredibly-fast-whisper/versions/3ab86df6c8f54c11309d4d1f930ac292bad43ace52d10c80d87eb258b3c9f79c/api
    # (as the SDK's model-schemas package describes it; output {"text", "chunks": [{"timestamp": [s, e], "text"}]})
    ModelSpec(
        provider="replicate", model="vaibhavs10/incredibly-fast-whisper", job="transcribe",
        source="https://replicate.com/vaibhavs10/incredibly-fast-whisper/versions/3ab86df6/api",
        output='{"text", "chunks": [{"timestamp": [start, end], "text"}]}',
        inputs={"audio": Input("url", required=True), "task": Input(choices=("transcribe", "translate"),
                                                                    default="transcribe"),
                "language": Input(default="None"), "timestamp": Input(choices=("chunk", "word"), default="word"),
                "batch_size": Input("integer", default=64), "diarization": Input("boolean", default=False),
                "hf_token": Input()},
        routes=(Route("language", "language"),), fixed={"timestamp": "word"}),

    # -- still images (generateImage, removeImageBackground) -------------------------------------------
    # https://replicate.com/google/nano-banana/api (official model, run by name). The version page
    # https://replicate.com/google/nano-banana/versions/f0a9d34b12ad1c1cd76269a844b218ff4e64e128ddaba93e15891f47368958a0/api
    # lists prompt, image_input and output_format; the current version adds aspect_ratio (default
    # match_input_image). The SDK's mapping: prompt, image -> image_input (a list), aspectRatio,
    # outputFormat (jpg | png).
    ModelSpec(
        provider="replicate", model="google/nano-banana", job="image", output=IMAGE_URI,
        source="https://replicate.com/google/nano-banana/versions/f0a9d34b/api",
        inputs={"prompt": Input(required=True), "image_input": Input("array"),
                "aspect_ratio": Input(choices=_NANO_BANANA_ASPECTS, default="match_input_image"),
                "output_format": Input(choices=("jpg", "png"), default="jpg")},
        routes=(Route("prompt", "prompt"), Route("image", "image_input"), Route("aspectRatio", "aspect_ratio"),
                Route("outputFormat", "output_format"))),
    # https://replicate.com/bytedance/seedream-4/versions/cf7d431991436f19d1c8dad83fe463c729c816d7a21056c5105e75c84a0aa7e9/api
    # (official; output is a list of URIs, one per image). The SDK maps prompt, image -> image_input
    # and aspectRatio; its docs add size, width, height, enhancePrompt, sequentialImageGeneration
    # and maxImages, which reach the model under its own names.
    ModelSpec(
        provider="replicate", model="bytedance/seedream-4", job="image", output=IMAGE_URIS,
        source="https://replicate.com/bytedance/seedream-4/versions/cf7d4319/api",
        inputs={"prompt": Input(required=True), "image_input": Input("array"),
                "size": Input(choices=("1K", "2K", "4K", "custom"), default="2K"),
                "aspect_ratio": Input(choices=_SEEDREAM_ASPECTS, default="match_input_image"),
                "width": Input("integer", minimum=1024, maximum=4096, default=2048),
                "height": Input("integer", minimum=1024, maximum=4096, default=2048),
                "sequential_image_generation": Input(choices=("disabled", "auto"), default="disabled"),
                "max_images": Input("integer", minimum=1, maximum=15, default=1),
                "enhance_prompt": Input("boolean", default=True)},
        routes=(Route("prompt", "prompt"), Route("image", "image_input"), Route("aspectRatio", "aspect_ratio"),
                Route("size", "size"), Route("width", "width"), Route("height", "height"),
                Route("enhancePrompt", "enhance_prompt"),
                Route("sequentialImageGeneration", "sequential_image_generation"), Route("maxImages", "max_images"))),
    # codeplugtech/background_remover is a community model: it runs only at a version. The SDK
    # sends {image}; version 37ff2aa8 is the one public callers run with {image} (an older
    # version, https://replicate.com/codeplugtech/background_remover/versions/4cd356e0/api, took
    # input_image_path). Output: a URI of a transparent PNG.
    ModelSpec(
        provider="replicate", model="codeplugtech/background_remover", job="image", output=IMAGE_URI,
        source="https://replicate.com/codeplugtech/background_remover/versions/37ff2aa8/api",
        version="37ff2aa89897c0de4a140a3d50969dc62b663ea467e1e2bde18008e3d3731b2b",
        inputs={"image": Input("url", required=True)},
        routes=(Route("image", "image"),)),
    # -- speech (generateAudio) -------------------------------------------------------------------------
    # elevenlabs/turbo-v2.5 (official, run by name), its inputs as the SDK's model schema
    # (schemas/providers/replicate/elevenlabs/audio-schema.ts) declares them; output: a URI of an mp3.
    # The SDK's camelCase options reach the model under its snake_case names.
    ModelSpec(
        provider="replicate", model="elevenlabs/turbo-v2.5", job="speech", output="a URI string (the mp3)",
        source="https://replicate.com/elevenlabs/turbo-v2.5/api",
        inputs={"text": Input(required=True), "voice": Input(default="Rachel"),
                "stability": Input("number", minimum=0, maximum=1, default=0.5),
                "similarity_boost": Input("number", minimum=0, maximum=1, default=0.75),
                "style": Input("number", minimum=0, maximum=1, default=0),
                "speed": Input("number", minimum=0.25, maximum=4, default=1),
                "language_code": Input(), "previous_text": Input(), "next_text": Input()},
        routes=(Route("text", "text"), Route("voice", "voice", text_voice), Route("stability", "stability"),
                Route("similarityBoost", "similarity_boost"), Route("style", "style"), Route("speed", "speed"),
                Route("languageCode", "language_code"), Route("previousText", "previous_text"),
                Route("nextText", "next_text"))),
    # -- video background removal (removeBackground) ------------------------------------------------------
    # https://replicate.com/arielreplicate/robust_video_matting/versions/2d2de06a76a837a4ba92b6164bf8bfd3ddb524a1fb64b0d8ae055af17fa22503/api
    # (community model; the SDK pins the latest version, 73d2128a, whose example predictions take the
    # same {input_video, output_type}). Output: a URI of an mp4.
    ModelSpec(
        provider="replicate", model="arielreplicate/robust_video_matting", job="matting", output=URI_STRING,
        source="https://replicate.com/arielreplicate/robust_video_matting/versions/2d2de06a/api",
        version="73d2128a371922d5d1abf0712a1d974be0e4e2358cc1218e4e34714767232bac",
        inputs={"input_video": Input("url", required=True),
                "output_type": Input(choices=("green-screen", "alpha-mask", "foreground-mask"),
                                     default="green-screen")},
        routes=(Route("outputType", "output_type"),)),
    # https://replicate.com/nateraw/video-background-remover/versions/ac5c138171b04413a69222c304f67c135e259d46089fc70ef12da685b3c604aa/api
    # (community model, the version the SDK pins; only {video}, always a green screen). Output: a URI.
    ModelSpec(
        provider="replicate", model="nateraw/video-background-remover", job="matting", output=URI_STRING,
        source="https://replicate.com/nateraw/video-background-remover/versions/ac5c1381/api",
        version="ac5c138171b04413a69222c304f67c135e259d46089fc70ef12da685b3c604aa",
        inputs={"video": Input("url", required=True)}),
)
