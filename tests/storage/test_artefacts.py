"""Artefact stores: streamed put, fetch, client URLs that really download, prefix deletes."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from vidassets.storage.artefacts import ArtefactError, LocalArtefactStore, artefact_key, file_digest


def test_put_fetch_url_delete(services, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = services.store
    src = tmp_path / "clip.mp4"
    payload = os.urandom(3 * 1024 * 1024 + 17)  # crosses multipart/stream chunk boundaries
    src.write_bytes(payload)
    digest = file_digest(src)
    key = artefact_key("exec1", "job1", "merged_cut", digest)
    assert key == f"executions/exec1/job1/merged_cut-{digest[:16]}.mp4"
    stored = store.put_file(src, key)
    assert stored.digest == digest and stored.size == len(payload)
    assert store.exists(key)
    fetched = store.fetch(key, tmp_path / "work")
    assert fetched.read_bytes() == payload
    url = store.url_for(key)
    if isinstance(store, LocalArtefactStore):
        assert "/api/artefacts/" in url and "sig=" in url
        expires = int(url.split("expires=")[1].split("&")[0])
        assert store.verify(key, expires, url.split("sig=")[1])
        assert not store.verify(key, expires, "0" * 64)
        assert not store.verify(key, 1, store.sign(key, 1))  # expired
    else:
        resp = httpx.get(url)  # presigned URL against the moto server
        assert resp.status_code == 200 and resp.content == payload
    assert store.delete_prefix("executions/exec1") == 1
    assert not store.exists(key)
    store.check()


@pytest.mark.parametrize("key", ["../escape.mp4", "/abs.mp4", "a/../../b.mp4", "", "a//b.mp4", "a\\b.mp4"])
def test_hostile_keys_are_refused(tmp_path: Path, key: str) -> None:
    store = LocalArtefactStore(tmp_path / "root", "http://localhost:3000", b"k" * 32)
    with pytest.raises(ArtefactError):
        store.path_for(key)
