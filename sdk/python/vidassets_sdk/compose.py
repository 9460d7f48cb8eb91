"""Build execution plans from Python: nodes that compose, and the plan they turn into.

Every builder returns an immutable :class:`Node` whose inputs are other nodes, so pipelines nest
(``add_subtitles(lip_sync(reframe(merge(a, b), "9:16"), voice), text=...)``) and fan out (one node
used by several others). A node is one job however often it is used: identity, not equality,
decides, because two identical ``generate_video`` calls without a seed are two different clips.

Job IDs are readable and stable (``generate_1``, ``merge_1``, ...): they are numbered per kind in
the order the plan lists jobs, which depends only on how the pipeline was written. Stable IDs
matter for variants: a job of a ``baseExecutionId`` run is reused when its ID and parameters match.
Pass ``id=`` to pin an ID, and :func:`ref` to depend on a job of the base execution.

Checks here catch slips early (an unknown aspect ratio, two subtitle sources); the server's
validator remains the authority.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vidassets_sdk.aio import AsyncExecution
    from vidassets_sdk.client import Execution

ASPECT_RATIOS = ("16:9", "9:16", "1:1", "4:5", "4:3", "3:4", "21:9", "9:21")
TRANSITIONS = ("cut", "fade", "crossfade", "dissolve", "wipe")
STRATEGIES = ("center", "top", "bottom", "left", "right", "smart", "pad", "letterbox", "blur", "blurred-pad")
SUBTITLE_PRESETS = ("default", "minimal", "bold", "tiktok", "karaoke")
SUBTITLE_ANIMATIONS = ("none", "fade", "slide", "typewriter", "pop")
SUBTITLE_HIGHLIGHTS = ("none", "word", "karaoke")


@dataclass(frozen=True, eq=False)
class Node:
    """One job of a plan (or, with ``operation=None``, a job of the base execution)."""

    operation: str | None
    params: Mapping[str, Any]
    inputs: tuple[Node, ...] = ()
    job_id: str | None = None  # pinned job ID; None means numbered automatically
    label: str = "job"

    # Fluent spellings, so a chain reads in the order the steps run.
    def reframe(self, aspect_ratio: str, strategy: str = "center", **kwargs: Any) -> Node:
        return reframe(self, aspect_ratio, strategy, **kwargs)

    def lip_sync(self, audio_url: str, volume: float = 1.0, **kwargs: Any) -> Node:
        return lip_sync(self, audio_url, volume, **kwargs)

    def add_subtitles(self, text: str | None = None, srt: str | None = None, style: str = "default",
                      **kwargs: Any) -> Node:
        return add_subtitles(self, text, srt, style, **kwargs)

    def to_plan(self, **options: Any) -> dict[str, Any]:
        return compose(self).to_plan(**options)

    def execute(self, **kwargs: Any) -> Execution:
        return compose(self).execute(**kwargs)

    async def execute_async(self, **kwargs: Any) -> AsyncExecution:
        return await compose(self).execute_async(**kwargs)


def _node(operation: str | None, label: str, params: Mapping[str, Any], inputs: Iterable[Node] = (),
          job_id: str | None = None) -> Node:
    clean = {k: copy.deepcopy(v) for k, v in params.items() if v is not None}
    return Node(operation, MappingProxyType(clean), tuple(inputs), job_id, label)


def _source(node: Node | str) -> tuple[tuple[Node, ...], dict[str, Any]]:
    """A single-input job's input: a node, or a media URL (``params.url``)."""
    if isinstance(node, Node):
        return (node,), {}
    if isinstance(node, str):
        return (), {"url": node}
    raise TypeError(f"expected a Node or a media URL, got {type(node).__name__}")


def _choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(allowed)}")
    return value


# -- builders ---------------------------------------------------------------------------------


def generate_video(prompt: str | None = None, *, duration: float = 5.0, aspect_ratio: str = "16:9",
                   resolution: str = "720p", seed: int | None = None, provider: str | None = None,
                   model: str | None = None, negative_prompt: str | None = None, start_image: str | None = None,
                   end_image: str | None = None, camera_motion: str | Mapping[str, Any] | None = None,
                   fps: int | None = None, api_key: str | None = None, id: str | None = None,
                   **model_inputs: Any) -> Node:
    """Text/image to video through a provider. ``model_inputs`` go to the model as given."""
    if not (prompt or start_image):
        raise ValueError("generate_video needs a prompt or a start_image")
    if duration <= 0:
        raise ValueError("duration must be positive")
    params = {"prompt": prompt, "duration": duration, "aspectRatio": _choice(aspect_ratio, ASPECT_RATIOS, "aspect ratio"),
              "resolution": resolution, "seed": seed, "provider": provider, "model": model,
              "negativePrompt": negative_prompt, "startImage": start_image, "endImage": end_image,
              "cameraMotion": camera_motion, "fps": fps, "apiKey": api_key, **model_inputs}
    return _node("generate", "generate", params, job_id=id)


def media(url: str, *, duration: float | None = None, id: str | None = None) -> Node:
    """Existing media by URL (http, https or s3). ``duration`` applies to still images."""
    return _node("generate", "media", {"url": url, "duration": duration}, job_id=id)


def merge(*clips: Node | Iterable[Node], transition: str = "crossfade", transition_duration: float = 0.5,
          id: str | None = None) -> Node:
    """Concatenate clips in the order given (a clip may appear more than once)."""
    flat: list[Node] = []
    for clip in clips:
        flat.extend([clip] if isinstance(clip, Node) else list(clip))
    if not flat or not all(isinstance(c, Node) for c in flat):
        raise ValueError("merge needs at least one clip node")
    spec: dict[str, Any] = {"type": _choice(transition, TRANSITIONS, "transition")}
    if transition != "cut":
        spec["duration"] = transition_duration
    return _node("merge", "merge", {"transition": spec}, flat, job_id=id)


def reframe(node: Node | str, aspect_ratio: str, strategy: str = "center", *, allow_upscale: bool | None = None,
            id: str | None = None) -> Node:
    inputs, params = _source(node)
    params.update(aspectRatio=_choice(aspect_ratio, ASPECT_RATIOS, "aspect ratio"),
                  strategy=_choice(strategy, STRATEGIES, "strategy"), allowUpscale=allow_upscale)
    return _node("reframe", "reframe", params, inputs, job_id=id)


def lip_sync(node: Node | str, audio_url: str, volume: float = 1.0, *, fit: str | None = None,
             provider: str | None = None, model: str | None = None, api_key: str | None = None,
             id: str | None = None) -> Node:
    """Put ``audio_url`` on the video; with a lip-sync provider the mouth follows the audio."""
    inputs, params = _source(node)
    params.update(audioUrl=audio_url, volume=volume, fit=fit, provider=provider, model=model, apiKey=api_key)
    return _node("lipSync", "lip_sync", params, inputs, job_id=id)


def add_subtitles(node: Node | str, text: str | None = None, srt: str | None = None, style: str = "default", *,
                  vtt: str | None = None, subtitles_url: str | None = None,
                  words: Iterable[Mapping[str, Any]] | None = None, timing: tuple[float, float] | None = None,
                  language: str | None = None, provider: str | None = None, model: str | None = None,
                  api_key: str | None = None, font_family: str | None = None, font_size: int | None = None,
                  font_color: str | None = None, outline_color: str | None = None,
                  background_color: str | None = None, bold: bool | None = None, position: str | None = None,
                  animation: str | None = None, highlight: str | None = None, highlight_color: str | None = None,
                  max_lines: int | None = None, max_words: int | None = None, uppercase: bool | None = None,
                  id: str | None = None) -> Node:
    """Burn captions from text, SRT/VTT, a subtitles URL or timed words; with none of those, from
    the video's own speech (transcribed with word timings by the server, or by ``provider``)."""
    sources = [s for s in (text, srt, vtt, subtitles_url, words) if s]
    if len(sources) > 1:
        raise ValueError("give only one of text, srt, vtt, subtitles_url, words")
    if animation is not None:
        _choice(animation, SUBTITLE_ANIMATIONS, "caption animation")
    if highlight is not None:
        _choice(highlight, SUBTITLE_HIGHLIGHTS, "caption highlight")
    overrides = {"fontFamily": font_family, "fontSize": font_size, "fontColor": font_color,
                 "outlineColor": outline_color, "backgroundColor": background_color, "bold": bold,
                 "position": position, "animation": animation, "highlight": highlight,
                 "highlightColor": highlight_color, "maxLines": max_lines, "maxWords": max_words,
                 "uppercase": uppercase}
    overrides = {k: v for k, v in overrides.items() if v is not None}
    preset = _choice(style, SUBTITLE_PRESETS, "subtitle style")
    inputs, params = _source(node)
    params.update(text=text, srt=srt, vtt=vtt, subtitlesUrl=subtitles_url,
                  words=[dict(w) for w in words] if words else None,
                  timing={"start": timing[0], "end": timing[1]} if timing else None,
                  style={"preset": preset, **overrides} if overrides else preset,
                  language=language, provider=provider, model=model, apiKey=api_key)
    return _node("addSubtitles", "add_subtitles", params, inputs, job_id=id)


def ref(job_id: str) -> Node:
    """A job of the base execution: depend on it without redefining it (variants)."""
    if not job_id:
        raise ValueError("ref needs the base execution's job id")
    return Node(None, MappingProxyType({}), (), job_id, "ref")


# -- plans ------------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """A set of nodes to submit together: the plan holds them and everything they depend on.

    ``compose(final)`` or ``compose(variant_a, variant_b)`` covers most uses; the builder methods
    (``pipeline.generate_video(...)``) add nodes as they are made, for scripts that prefer that.
    Roots are the added nodes no other job uses.
    """

    nodes: list[Node] = field(default_factory=list)

    def add(self, *nodes: Node) -> Pipeline:
        for node in nodes:
            if not isinstance(node, Node):
                raise TypeError(f"expected a Node, got {type(node).__name__}")
            if not any(node is known for known in self.nodes):
                self.nodes.append(node)
        return self

    def _added(self, node: Node) -> Node:
        self.add(node)
        return node

    def generate_video(self, prompt: str | None = None, **kwargs: Any) -> Node:
        return self._added(generate_video(prompt, **kwargs))

    def media(self, url: str, **kwargs: Any) -> Node:
        return self._added(media(url, **kwargs))

    def merge(self, *clips: Node | Iterable[Node], **kwargs: Any) -> Node:
        return self._added(merge(*clips, **kwargs))

    def reframe(self, node: Node | str, aspect_ratio: str, strategy: str = "center", **kwargs: Any) -> Node:
        return self._added(reframe(node, aspect_ratio, strategy, **kwargs))

    def lip_sync(self, node: Node | str, audio_url: str, volume: float = 1.0, **kwargs: Any) -> Node:
        return self._added(lip_sync(node, audio_url, volume, **kwargs))

    def add_subtitles(self, node: Node | str, text: str | None = None, srt: str | None = None,
                      style: str = "default", **kwargs: Any) -> Node:
        return self._added(add_subtitles(node, text, srt, style, **kwargs))

    # -- output ---------------------------------------------------------------------------

    def ordered(self) -> list[Node]:
        """Every job node, inputs before their users, in first-use order (refs excluded)."""
        order: list[Node] = []
        done: set[int] = set()

        def visit(node: Node) -> None:
            # Nodes are immutable and built from existing inputs, so the graph cannot have a cycle.
            if id(node) in done:
                return
            done.add(id(node))
            for dep in node.inputs:
                visit(dep)
            if node.operation is not None:
                order.append(node)

        for node in self.nodes:
            visit(node)
        return order

    def job_ids(self) -> dict[int, str]:
        """``id(node)`` -> job ID: pinned IDs first, then ``{label}_{n}`` skipping taken ones."""
        ordered = self.ordered()
        refs = [n for n in _walk(self.nodes) if n.operation is None]
        ids: dict[int, str] = {}
        taken: set[str] = set()
        for node in refs:  # ref("x") twice names the same base job
            ids[id(node)] = node.job_id or ""
            taken.add(node.job_id or "")
        for node in ordered:
            if node.job_id is None:
                continue
            if node.job_id in taken:
                raise ValueError(f"job id {node.job_id!r} is used by two different nodes")
            ids[id(node)] = node.job_id
            taken.add(node.job_id)
        counters: dict[str, int] = {}
        for node in ordered:
            if id(node) in ids:
                continue
            while True:
                counters[node.label] = counters.get(node.label, 0) + 1
                candidate = f"{node.label}_{counters[node.label]}"
                if candidate not in taken:
                    break
            ids[id(node)] = candidate
            taken.add(candidate)
        return ids

    def roots(self) -> list[Node]:
        used = {id(dep) for node in _walk(self.nodes) for dep in node.inputs}
        return [n for n in self.nodes if id(n) not in used and n.operation is not None]

    def jobs(self) -> list[dict[str, Any]]:
        ids = self.job_ids()
        return [{"id": ids[id(node)], "operation": node.operation, "params": _plain(node.params),
                 "dependsOn": [ids[id(dep)] for dep in node.inputs]} for node in self.ordered()]

    def to_plan(self, *, base_execution_id: str | None = None, webhook_url: str | None = None,
                webhook_secret: str | None = None, provider_api_keys: Mapping[str, str] | None = None) -> dict[str, Any]:
        """The documented request body: ``{"executionPlan": {"jobs", "rootJobIds"}, "options"}``."""
        jobs = self.jobs()
        if not jobs:
            raise ValueError("the pipeline has no jobs")
        ids = self.job_ids()
        options = {"baseExecutionId": base_execution_id, "webhookUrl": webhook_url, "webhookSecret": webhook_secret}
        plan: dict[str, Any] = {
            "executionPlan": {"jobs": jobs, "rootJobIds": [ids[id(n)] for n in self.roots()]},
            "options": {k: v for k, v in options.items() if v is not None},
        }
        if provider_api_keys:
            plan["providerApiKeys"] = dict(provider_api_keys)
        return plan

    # The clients build on this module, so these conveniences import them when called.
    def execute(self, **kwargs: Any) -> Execution:
        """Submit the plan; keyword arguments as :func:`vidassets_sdk.execute`."""
        from vidassets_sdk.client import execute

        return execute(self, **kwargs)

    async def execute_async(self, **kwargs: Any) -> AsyncExecution:
        from vidassets_sdk.aio import execute_async

        return await execute_async(self, **kwargs)


def compose(*roots: Node | Iterable[Node]) -> Pipeline:
    """A pipeline of the given nodes (and everything they depend on)."""
    pipeline = Pipeline()
    for root in roots:
        pipeline.add(*([root] if isinstance(root, Node) else list(root)))
    return pipeline


def _walk(nodes: Iterable[Node]) -> Iterator[Node]:
    seen: set[int] = set()
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(node.inputs)


def _plain(value: Any) -> Any:
    """Params as plain JSON types (the node keeps them read-only)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
