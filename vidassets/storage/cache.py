"""Result cache: a job whose request (operation, normalised params, input digests, renderer
version) was already answered reuses that artefact instead of calling the provider again.

Layers: Redis with a TTL when configured (shared by all workers), an in-process LRU otherwise,
and always the durable record in the database, which outlives Redis restarts and evictions.
Entries are scoped by tenant and remember which execution made them, so
``DELETE /api/execute/{id}/cache`` can drop exactly that execution's entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from vidassets.plan.models import canonical_json
from vidassets.storage.db import session_scope
from vidassets.storage.models import ResultCacheRow, utcnow

log = logging.getLogger(__name__)
_PREFIX = "vidassets:cache:"


def cache_key(*, tenant_id: str, operation: str, params: Mapping[str, Any], input_digests: Sequence[str],
              version: str) -> str:
    body = canonical_json({"t": tenant_id, "op": operation, "p": dict(params), "in": list(input_digests), "v": version})
    return hashlib.sha256(body.encode()).hexdigest()


class ResultCache:
    def __init__(self, db_url: str, redis_client: Any = None, ttl_s: int = 7 * 24 * 3600, memory_entries: int = 512):
        self.db_url = db_url
        self.redis = redis_client
        self.ttl_s = ttl_s
        self._memory: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._memory_entries = memory_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        hot = self._hot_get(key)
        if hot is not None:
            return hot
        with session_scope(self.db_url) as s:
            row = s.get(ResultCacheRow, key)
            if row is None or row.expires_at < utcnow():
                return None
            result = dict(row.result)
        self._hot_put(key, result)
        return result

    def put(self, key: str, result: Mapping[str, Any], *, tenant_id: str, execution_id: str, job_id: str) -> None:
        now = utcnow()
        with session_scope(self.db_url) as s:
            existing = s.get(ResultCacheRow, key)
            if existing is not None:
                existing.result, existing.execution_id, existing.job_id = dict(result), execution_id, job_id
                existing.created_at, existing.expires_at = now, now + dt.timedelta(seconds=self.ttl_s)
            else:
                s.add(ResultCacheRow(cache_key=key, tenant_id=tenant_id, execution_id=execution_id, job_id=job_id,
                                     result=dict(result), created_at=now,
                                     expires_at=now + dt.timedelta(seconds=self.ttl_s)))
        self._hot_put(key, dict(result))

    def put_safely(self, key: str, result: Mapping[str, Any], **kwargs: str) -> None:
        """Caching is an optimisation: a failure to record must never fail the job."""
        try:
            self.put(key, result, **kwargs)
        except IntegrityError:
            pass  # another worker recorded the same request concurrently
        except Exception as exc:  # noqa: BLE001
            log.warning("result cache write failed: %s", exc.__class__.__name__)

    def invalidate_execution(self, execution_id: str) -> int:
        with session_scope(self.db_url) as s:
            keys = list(s.scalars(select(ResultCacheRow.cache_key).where(ResultCacheRow.execution_id == execution_id)))
            s.execute(delete(ResultCacheRow).where(ResultCacheRow.execution_id == execution_id))
        with self._lock:
            for key in keys:
                self._memory.pop(key, None)
        if self.redis is not None and keys:
            try:
                self.redis.delete(*[_PREFIX + k for k in keys])
            except Exception as exc:  # noqa: BLE001 - the durable record is gone; Redis copies expire
                log.warning("could not drop %d Redis cache keys: %s", len(keys), exc.__class__.__name__)
        return len(keys)

    # -- hot layer ---------------------------------------------------------------------------

    def _hot_get(self, key: str) -> dict[str, Any] | None:
        if self.redis is not None:
            try:
                raw = self.redis.get(_PREFIX + key)
                return json.loads(raw) if raw else None
            except Exception as exc:  # noqa: BLE001 - fall back to the database
                log.warning("Redis cache read failed: %s", exc.__class__.__name__)
                return None
        with self._lock:
            hit = self._memory.get(key)
            if hit is not None:
                self._memory.move_to_end(key)
            return dict(hit) if hit is not None else None

    def _hot_put(self, key: str, result: dict[str, Any]) -> None:
        if self.redis is not None:
            try:
                self.redis.set(_PREFIX + key, json.dumps(result), ex=self.ttl_s)
            except Exception as exc:  # noqa: BLE001
                log.warning("Redis cache write failed: %s", exc.__class__.__name__)
            return
        with self._lock:
            self._memory[key] = dict(result)
            self._memory.move_to_end(key)
            while len(self._memory) > self._memory_entries:
                self._memory.popitem(last=False)
