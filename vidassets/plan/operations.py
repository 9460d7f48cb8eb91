"""The five job kinds, their plan spellings and the Dagster asset each one materialises."""

from __future__ import annotations

from enum import Enum


class Operation(str, Enum):
    """Canonical operation names (the spellings of SPEC.md's plan format)."""

    GENERATE = "generate"
    MERGE = "merge"
    REFRAME = "reframe"
    LIP_SYNC = "lipSync"
    ADD_SUBTITLES = "addSubtitles"

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


class AssetKind(str, Enum):
    """Asset keys, in a topological order of :data:`ASSET_PARENTS` (the order the UI lists them).

    The first five are *job kinds*: every plan job materialises the kind of its operation.
    ``delivered`` has no jobs of its own: it is the plan's root outputs, what the client gets.
    """

    GENERATED_CLIPS = "generated_clips"
    MERGED_CUT = "merged_cut"
    REFRAMED = "reframed"
    LIPSYNCED = "lipsynced"
    SUBTITLED = "subtitled"
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
}

ASSET_KINDS_IN_LINEAGE_ORDER: tuple[AssetKind, ...] = tuple(AssetKind)
JOB_KINDS: tuple[AssetKind, ...] = tuple(k for k in AssetKind if k.has_jobs)
_TRANSFORMS = (AssetKind.MERGED_CUT, AssetKind.REFRAMED, AssetKind.LIPSYNCED, AssetKind.SUBTITLED)

# The asset graph Dagster is told about. It must hold for *every* plan: a plan may reframe each
# clip and then merge them, burn captions and then put a new voice on, merge merges... so no
# transform kind may be declared upstream of another. Each transform works on clips (directly or
# through other transforms) and ``delivered`` — the root outputs — can be any kind.
ASSET_PARENTS: dict[AssetKind, tuple[AssetKind, ...]] = {
    AssetKind.GENERATED_CLIPS: (),
    **{kind: (AssetKind.GENERATED_CLIPS,) for kind in _TRANSFORMS},
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
    AssetKind.DELIVERED: "1",  # no renderer: the root outputs as rendered by their own kinds
}
