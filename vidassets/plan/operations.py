"""The job kinds, their plan spellings and the Dagster asset each one materialises.

The first five are the documented format's; the rest arrived with today's TypeScript SDK
(issue 19): still images and speech from provider models, background removal, and layers.
"""

from __future__ import annotations

from enum import Enum


class Operation(str, Enum):
    """Canonical operation names (the spellings of SPEC.md's plan format)."""

    GENERATE = "generate"
    MERGE = "merge"
    REFRAME = "reframe"
    LIP_SYNC = "lipSync"
    ADD_SUBTITLES = "addSubtitles"
    GENERATE_IMAGE = "generateImage"
    GENERATE_AUDIO = "generateAudio"
    REMOVE_BACKGROUND = "removeBackground"
    REMOVE_IMAGE_BACKGROUND = "removeImageBackground"
    LAYER = "layer"

    @property
    def media_type(self) -> MediaType:
        """What the operation's artefact is (an import takes what it imports; see the artefact step)."""
        return _MEDIA_BY_OPERATION.get(self, MediaType.VIDEO)

    @property
    def provider_only(self) -> bool:
        """Operations only a vendor model performs: no offline renderer exists for them."""
        return self in (Operation.GENERATE_IMAGE, Operation.GENERATE_AUDIO, Operation.REMOVE_BACKGROUND,
                        Operation.REMOVE_IMAGE_BACKGROUND)

    @property
    def asset_kind(self) -> AssetKind:
        return _KIND_BY_OPERATION[self]

    @classmethod
    def parse(cls, name: str) -> Operation:
        """Accept every synonym a client may send (`generateVideo`, `lip_sync`, ...)."""
        key = name.strip().replace("_", "").replace("-", "").lower()
        try:
            return _SYNONYMS[key]
        except KeyError:
            known = ", ".join(sorted({op.value for op in cls}))
            raise ValueError(f"unknown operation {name!r}; expected one of: {known}") from None


class MediaType(str, Enum):
    VIDEO = "video"
    IMAGE = "image"
    AUDIO = "audio"


class AssetKind(str, Enum):
    """Asset keys, in a topological order of :data:`ASSET_PARENTS` (the order the UI lists them).

    All but the last are *job kinds*: every plan job materialises the kind of its operation.
    ``delivered`` has no jobs of its own: it is the plan's root outputs, what the client gets.
    """

    GENERATED_IMAGES = "generated_images"
    IMAGE_CUTOUTS = "image_cutouts"
    GENERATED_AUDIO = "generated_audio"
    GENERATED_CLIPS = "generated_clips"
    BACKGROUND_REMOVED = "background_removed"
    MERGED_CUT = "merged_cut"
    REFRAMED = "reframed"
    LIPSYNCED = "lipsynced"
    SUBTITLED = "subtitled"
    LAYERED = "layered"
    DELIVERED = "delivered"

    @property
    def operation(self) -> Operation:
        return _OPERATION_BY_KIND[self]

    @property
    def has_jobs(self) -> bool:
        return self in _OPERATION_BY_KIND


_KIND_BY_OPERATION = {
    Operation.GENERATE: AssetKind.GENERATED_CLIPS,
    Operation.MERGE: AssetKind.MERGED_CUT,
    Operation.REFRAME: AssetKind.REFRAMED,
    Operation.LIP_SYNC: AssetKind.LIPSYNCED,
    Operation.ADD_SUBTITLES: AssetKind.SUBTITLED,
    Operation.GENERATE_IMAGE: AssetKind.GENERATED_IMAGES,
    Operation.REMOVE_IMAGE_BACKGROUND: AssetKind.IMAGE_CUTOUTS,
    Operation.GENERATE_AUDIO: AssetKind.GENERATED_AUDIO,
    Operation.REMOVE_BACKGROUND: AssetKind.BACKGROUND_REMOVED,
    Operation.LAYER: AssetKind.LAYERED,
}
_MEDIA_BY_OPERATION = {
    Operation.GENERATE_IMAGE: MediaType.IMAGE,
    Operation.REMOVE_IMAGE_BACKGROUND: MediaType.IMAGE,
    Operation.GENERATE_AUDIO: MediaType.AUDIO,
}
_OPERATION_BY_KIND = {kind: op for op, kind in _KIND_BY_OPERATION.items()}

_SYNONYMS = {
    "generate": Operation.GENERATE,
    "generatevideo": Operation.GENERATE,
    "video": Operation.GENERATE,
    "merge": Operation.MERGE,
    "mergevideos": Operation.MERGE,
    "concat": Operation.MERGE,
    "reframe": Operation.REFRAME,
    "lipsync": Operation.LIP_SYNC,
    "addsubtitles": Operation.ADD_SUBTITLES,
    "subtitles": Operation.ADD_SUBTITLES,
    "subtitle": Operation.ADD_SUBTITLES,
    "generateimage": Operation.GENERATE_IMAGE,
    "image": Operation.GENERATE_IMAGE,
    "generateaudio": Operation.GENERATE_AUDIO,
    "audio": Operation.GENERATE_AUDIO,
    "speech": Operation.GENERATE_AUDIO,
    "texttospeech": Operation.GENERATE_AUDIO,
    "removebackground": Operation.REMOVE_BACKGROUND,
    "removeimagebackground": Operation.REMOVE_IMAGE_BACKGROUND,
    "layer": Operation.LAYER,
    "layers": Operation.LAYER,
}

ASSET_KINDS_IN_LINEAGE_ORDER: tuple[AssetKind, ...] = tuple(AssetKind)
JOB_KINDS: tuple[AssetKind, ...] = tuple(k for k in AssetKind if k.has_jobs)
# Sources: what a plan starts from. Images come first: a clip may start from one (a start image),
# and an image may be cut out of another (background removal).
_IMAGE_KINDS = (AssetKind.GENERATED_IMAGES, AssetKind.IMAGE_CUTOUTS)
_SOURCE_KINDS = (*_IMAGE_KINDS, AssetKind.GENERATED_AUDIO, AssetKind.GENERATED_CLIPS)
_TRANSFORMS = (AssetKind.BACKGROUND_REMOVED, AssetKind.MERGED_CUT, AssetKind.REFRAMED, AssetKind.LIPSYNCED,
               AssetKind.SUBTITLED, AssetKind.LAYERED)

# The asset graph Dagster is told about. It must hold for *every* plan: a plan may reframe each
# clip and then merge them, burn captions and then put a new voice on, merge merges, layer a
# cut-out image over a captioned merge... so no transform kind may be declared upstream of
# another. Each transform works on the sources (directly or through other transforms): clips,
# images (stills in merges and layers) and audio (merge beds, lip-sync tracks); ``delivered`` —
# the root outputs — can be any kind.
ASSET_PARENTS: dict[AssetKind, tuple[AssetKind, ...]] = {
    AssetKind.GENERATED_IMAGES: (),
    AssetKind.IMAGE_CUTOUTS: (AssetKind.GENERATED_IMAGES,),
    AssetKind.GENERATED_AUDIO: (),
    AssetKind.GENERATED_CLIPS: (*_IMAGE_KINDS, AssetKind.GENERATED_AUDIO),  # start images; audio-driven models
    **{kind: _SOURCE_KINDS for kind in _TRANSFORMS},
    AssetKind.DELIVERED: JOB_KINDS,
}

# Renderer versions, per kind: part of every result-cache key and the assets' code versions.
# Bump one when its renderer's output changes, so caches miss and the UI marks outputs stale.
# 2: keyframes every 2 s (encoder profile).
RENDERER_VERSIONS: dict[AssetKind, str] = {
    AssetKind.GENERATED_CLIPS: "2",
    AssetKind.MERGED_CUT: "2",
    AssetKind.REFRAMED: "2",
    AssetKind.LIPSYNCED: "2",
    AssetKind.SUBTITLED: "3",  # 3: lines broken by measured width in the safe area, size from the short side
    AssetKind.GENERATED_IMAGES: "1",
    AssetKind.IMAGE_CUTOUTS: "1",
    AssetKind.GENERATED_AUDIO: "1",
    AssetKind.BACKGROUND_REMOVED: "1",
    AssetKind.LAYERED: "1",
    AssetKind.DELIVERED: "1",  # no renderer: the root outputs as rendered by their own kinds
}
