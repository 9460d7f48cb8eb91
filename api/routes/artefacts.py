"""Download route for the local artefact store (the embedded default's stand-in for presigned S3 URLs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse

from api.deps import ServicesDep
from api.errors import ApiError
from vidassets.storage.artefacts import ArtefactError, LocalArtefactStore, content_type

router = APIRouter(tags=["artefacts"])


@router.get("/api/artefacts/{key:path}", summary="Download an artefact (signed, expiring URL)",
            response_class=FileResponse)
def download_artefact(key: str, services: ServicesDep, expires: Annotated[int, Query()],
                      sig: Annotated[str, Query(max_length=128)]) -> FileResponse:
    store = services.store
    if not isinstance(store, LocalArtefactStore):
        raise ApiError(404, "artefacts are served by the object store", "not_found")
    if not store.verify(key, expires, sig):
        raise ApiError(403, "invalid or expired artefact URL", "forbidden")
    try:
        path = store.path_for(key)
    except ArtefactError as exc:
        raise ApiError(404, str(exc), "not_found") from exc
    if not path.is_file():
        raise ApiError(404, "artefact not found", "not_found")
    return FileResponse(path, media_type=content_type(key), filename=path.name)
