"""Today's SDK's media jobs in our terms: images, speech, background removal, layers, rich merges.

What the SDK sends (``@synthome/sdk`` 0.7.1, ``compose/pipeline.ts``): an earlier job's output
is a marker string ``_{video|image|audio}JobDependency:<job>`` where a URL could stand, and the
job is also listed in ``dependsOn``. Each marker becomes an input job named in our params
(``image`` → ``dependsOn`` of an image job, ``layers[].clips[].input``, ``audio[].input``,
``imageInput``/``audioInput`` on ``generate``), and the kind the marker announces must be the
kind the job makes: a ``_videoJobDependency`` naming a speech job is refused, not guessed.

Merge items (``{url, type, duration, offset, volume}``): a video or image URL becomes an import
job ``<merge id>.item<k>`` (an image imports as a still clip of its ``duration``, 1 s by the
SDK's default), an audio item becomes a track under the cut. Layer media stay URLs the layer job
fetches itself, so a PNG logo keeps its transparency.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidassets.plan.models import JobIn

#: What kind of artefact each operation of today's SDK makes, as its markers name it.
MAKES: dict[str, str] = {
    "generate": "video", "removeBackground": "video", "merge": "video", "reframe": "video", "lipSync": "video",
    "addSubtitles": "video", "layer": "video", "generateImage": "image", "removeImageBackground": "image",
    "generateAudio": "audio",
}
IMAGE_OPERATIONS = ("generateImage", "removeImageBackground")
Issue = Callable[[str, "JobIn", str], None]
Marker = Callable[[Any], "tuple[str, str] | None"]


class MediaJobs:
    """Mixed into the translator (``wire_current._Translator``): the new operations' jobs."""

    jobs_in: list[JobIn]
    index: dict[str, int]
    key_providers: Collection[str]

    # provided by the translator
    def _issue(self, path: str, job: JobIn, message: str) -> None: ...  # pragma: no cover
    def _emit(self, job_id: str, op: str, params: Mapping[str, Any], deps: list[str], path: str) -> None: ...  # pragma: no cover
    @staticmethod
    def _marker(value: Any) -> tuple[str, str] | None: ...  # pragma: no cover

    def _op_of(self, job_id: str) -> str | None:
        i = self.index.get(job_id)
        if i is None:
            return None
        job = self.jobs_in[i]
        return job.type or job.operation

    def _job_ref(self, job: JobIn, path: str, value: Any, kinds: tuple[str, ...]) -> str | None:
        """The job a marker names, checked to exist and to make one of ``kinds``; None (reported)."""
        found = self._marker(value)
        if found is None:
            return None
        kind, ref = found
        made = MAKES.get(self._op_of(ref) or "")
        if made is None:
            self._issue(path, job, f"names job {ref!r}, which is not a media job of this plan")
            return None
        if kind != made or made not in kinds:
            self._issue(path, job, f"job {ref!r} makes {made}; {' or '.join(kinds)} is needed here")
            return None
        return ref

    def _unused_deps(self, job: JobIn, where: str, used: list[str]) -> bool:
        unused = [d for d in job.dependsOn if d not in used]
        if unused:
            self._issue(f"{where}.dependsOn", job, f"depends on {', '.join(map(repr, unused))} without using its "
                        "output; this server runs each job on the inputs it names")
        return not unused

    # -- images, speech, background removal ------------------------------------------------------

    def _image(self, job: JobIn, where: str, op: str) -> None:
        """generateImage / removeImageBackground: ``image`` is URLs and image-job markers."""
        params = dict(job.params)
        given = params.pop("image", None)
        values = given if isinstance(given, list) else ([] if given is None else [given])
        urls: list[Any] = []
        deps: list[str] = []
        for k, value in enumerate(values):
            path = f"{where}.params.image" + (f"[{k}]" if isinstance(given, list) else "")
            if self._marker(value):
                ref = self._job_ref(job, path, value, ("image",))
                if ref is None:
                    return
                deps.append(ref)
            else:
                urls.append(value)
        if urls:
            params["image"] = urls
        if not self._unused_deps(job, where, deps):
            return
        self._emit(job.id, op, params, deps, where)

    def _speech(self, job: JobIn, where: str) -> None:
        if not self._unused_deps(job, where, []):
            return
        self._emit(job.id, "generateAudio", dict(job.params), [], where)

    def _matting(self, job: JobIn, where: str) -> None:
        """removeBackground: ``input_video``/``video`` (a URL or a video job), or the job before it."""
        params = dict(job.params)
        deps = list(job.dependsOn)
        video = params.pop("video", None)
        if self._marker(video):
            ref = self._job_ref(job, f"{where}.params.video", video, ("video",))
            if ref is None:
                return
            deps = [ref] + [d for d in deps if d != ref]
        elif isinstance(video, str):
            params["url"] = video
        if len(deps) > 1 or (deps and (params.get("url") or params.get("input_video"))):
            self._issue(f"{where}.dependsOn", job, "background removal takes one video: an input job or a URL")
            return
        if params.get("provider") is None and "replicate" in self.key_providers:
            # the older removeBackground({outputType}) names no model: Replicate's matting model,
            # when a key for it is at hand (without one the plan check says what to configure)
            params["provider"] = "replicate"
        self._emit(job.id, "removeBackground", params, deps, where)

    def _generate_inputs(self, job: JobIn, where: str, params: dict[str, Any]) -> list[str] | None:
        """generate's ``image`` / ``audio`` markers (an image-to-video model's start image, a
        talking-head model's speech) become ``imageInput`` / ``audioInput``."""
        deps: list[str] = []
        for name, kind, ours in (("image", "image", "imageInput"), ("audio", "audio", "audioInput")):
            if self._marker(params.get(name)):
                ref = self._job_ref(job, f"{where}.params.{name}", params.pop(name), (kind,))
                if ref is None:
                    return None
                params[ours] = ref
                deps.append(ref)
        return deps if self._unused_deps(job, where, deps) else None

    # -- layers -------------------------------------------------------------------------------------

    def _layer(self, job: JobIn, where: str) -> None:
        layers = job.params.get("layers")
        if not isinstance(layers, list) or not layers:
            self._issue(f"{where}.params.layers", job, "layer needs a non-empty list of layers")
            return
        out: list[dict[str, Any]] = []
        deps: list[str] = []
        for k, layer in enumerate(layers):
            converted = self._one_layer(job, f"{where}.params.layers[{k}]", layer, deps)
            if converted is None:
                return
            out.append(converted)
        if not self._unused_deps(job, where, deps):
            return
        params = {k: v for k, v in job.params.items() if k != "layers" and v is not None}
        self._emit(job.id, "layer", {**params, "layers": out}, list(dict.fromkeys(deps)), where)

    def _one_layer(self, job: JobIn, path: str, layer: Any, deps: list[str]) -> dict[str, Any] | None:
        if not isinstance(layer, Mapping):
            self._issue(path, job, "a layer must be an object {media, placement, ...}")
            return None
        if layer.get("isTimeline"):
            timeline = layer.get("timeline")
            if not isinstance(timeline, list) or not timeline:
                self._issue(f"{path}.timeline", job, "a timeline needs a non-empty list of items")
                return None
            clips: list[dict[str, Any]] = []
            for k, item in enumerate(timeline):
                if not isinstance(item, Mapping):
                    self._issue(f"{path}.timeline[{k}]", job, "a timeline item must be an object {media, duration}")
                    return None
                found = self._layer_media(job, f"{path}.timeline[{k}].media", item.get("media"), deps)
                if found is None:
                    return None
                own = {name: item[name] for name in ("duration", "placement") if item.get(name) is not None}
                clips += [{**c, **own} for c in found]
            # each item keeps its own placement; keying is the layer's, so the items must agree on it
            keys = [{k: v for k, v in _layer_look(item).items() if k not in ("main", "placement")} for item in timeline]
            if any(key != keys[0] for key in keys):
                self._issue(f"{path}.timeline", job, "the items of one timeline must share their chroma key on this "
                            "server (give each keyed item its own layer)")
                return None
            return {"clips": clips, **{k: v for k, v in _layer_look(timeline[0]).items() if k != "placement"}}
        found = self._layer_media(job, f"{path}.media", layer.get("media"), deps)
        if found is None:
            return None
        if layer.get("duration") is not None:
            found = [{**c, "duration": layer["duration"]} for c in found]
        return {"clips": found, **_layer_look(layer)}

    def _layer_media(self, job: JobIn, path: str, media: Any, deps: list[str]) -> list[dict[str, Any]] | None:
        values = media if isinstance(media, list) else [media]
        if not values or any(v is None for v in values):
            self._issue(path, job, "a layer needs media: a URL or an earlier job's output")
            return None
        clips: list[dict[str, Any]] = []
        for k, value in enumerate(values):
            where = f"{path}[{k}]" if isinstance(media, list) else path
            if self._marker(value):
                ref = self._job_ref(job, where, value, ("video", "image"))
                if ref is None:
                    return None
                deps.append(ref)
                clips.append({"input": ref})
            elif isinstance(value, str):
                clips.append({"url": value})
            else:
                self._issue(where, job, "must be a media URL or an earlier video or image job's output")
                return None
        return clips

    # -- merge items -----------------------------------------------------------------------------------

    def _merge_items(self, job: JobIn, where: str, items: list[Any]) -> None:
        inputs: list[str] = []
        clips: list[dict[str, Any]] = []
        tracks: list[dict[str, Any]] = []
        imports: list[tuple[str, dict[str, Any], str]] = []
        for k, item in enumerate(items):
            path = f"{where}.params.items[{k}]"
            if not isinstance(item, Mapping):
                self._issue(path, job, "a merge item must be an object {url, type}")
                return
            kind = item.get("type", "video")
            if kind not in ("video", "image", "audio"):
                self._issue(f"{path}.type", job, f"unknown item type {kind!r}; expected video, image or audio")
                return
            url, ref = item.get("url"), None
            if self._marker(url):
                ref = self._job_ref(job, f"{path}.url", url, (kind,))
                if ref is None:
                    return
            elif not isinstance(url, str) or not url:
                self._issue(f"{path}.url", job, f"must be a{'n' if kind != 'video' else ''} {kind} URL or an earlier "
                            f"{kind} job's output")
                return
            if kind == "audio":
                tracks.append({**({"input": ref} if ref else {"url": url}),
                               **{k2: item[k2] for k2 in ("offset", "volume") if item.get(k2) is not None}})
                if ref:
                    inputs.append(ref)
                continue
            if ref is None:
                ref = f"{job.id}.item{k}"
                imported = {"url": url, **({"duration": item.get("duration") or 1} if kind == "image" else {})}
                imports.append((ref, imported, path))
            inputs.append(ref)
            option = {k2: item[k2] for k2 in ("duration", "volume") if item.get(k2) is not None}
            if kind == "image" and ref.startswith(f"{job.id}.item"):
                option.pop("duration", None)  # the import already made a still of that length
            elif kind == "image":
                option.setdefault("duration", 1)
            clips.append(option)
        if not clips:
            self._issue(f"{where}.params.items", job, "a merge needs at least one video or image item")
            return
        if not self._unused_deps(job, where, inputs):
            return
        for import_id, _params, path in imports:
            if import_id in self.index:
                self._issue(path, job, f"job id {import_id!r}, which this item's import job needs, is taken")
                return
        for import_id, params, path in imports:
            self._emit(import_id, "generate", params, [], path)
        merged: dict[str, Any] = {}
        if any(clips):
            merged["clips"] = clips
        if tracks:
            merged["audio"] = tracks
        self._emit(job.id, "merge", merged, inputs, where)


def _layer_look(item: Mapping[str, Any]) -> dict[str, Any]:
    """A layer's placement, keying and main flag under our names (absent ones left to defaults)."""
    names = ("placement", "chromaKey", "chromaKeyColor", "similarity", "blend", "main")
    return {name: item[name] for name in names if item.get(name) is not None}
