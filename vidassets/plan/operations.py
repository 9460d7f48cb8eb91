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
    def asset_kind(self) -> "AssetKind":
        return _KIND_BY_OPERATION[self]

    @classmethod
    def parse(cls, name: str) -> "Operation":
        """Accept every synonym a client may send (`generateVideo`, `lip_sync`, ...)."""
        key = name.strip().replace("_", "").replace("-", "").lower()
        try:
            return _SYNONYMS[key]
        except KeyError:
            known = ", ".join(sorted({op.value for op in cls}))
            raise ValueError(f"unknown operation {name!r}; expected one of: {known}") from None


class AssetKind(str, Enum):
    """Asset keys, declared in lineage order (the order the UI draws them)."""

    GENERATED_CLIPS = "generated_clips"
    MERGED_CUT = "merged_cut"
    REFRAMED = "reframed"
    LIPSYNCED = "lipsynced"
    SUBTITLED = "subtitled"

    @property
    def operation(self) -> Operation:
        return _OPERATION_BY_KIND[self]


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

# Renderer versions, per kind: part of every result-cache key and the assets' code versions.
# Bump one when its renderer's output changes, so caches miss and the UI marks outputs stale.
# 2: keyframes every 2 s (encoder profile).
RENDERER_VERSIONS: dict[AssetKind, str] = {
    AssetKind.GENERATED_CLIPS: "2",
    AssetKind.MERGED_CUT: "2",
    AssetKind.REFRAMED: "2",
    AssetKind.LIPSYNCED: "2",
    AssetKind.SUBTITLED: "2",
}
