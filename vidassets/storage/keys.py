"""API keys: create, verify, list, revoke. Keys look like ``va_<id>_<secret>``."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update

from vidassets.storage.db import rowcount, session_scope
from vidassets.storage.models import ApiKeyRow, utcnow

_KEY = re.compile(r"^va_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
TENANT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key id (for limits and logs) and the tenant (for data scoping)."""

    key_id: str
    tenant_id: str
    rate_limit_per_min: int | None = None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyRepository:
    def __init__(self, db_url: str):
        self.db_url = db_url

    def create(self, tenant_id: str, name: str = "default", rate_limit_per_min: int | None = None) -> tuple[str, ApiKeyRow]:
        if not TENANT_PATTERN.match(tenant_id):
            raise ValueError("tenant id: letters, digits, _ . - (max 64)")
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        row = ApiKeyRow(id=key_id, tenant_id=tenant_id, name=name[:128], secret_hash=_hash(secret),
                        rate_limit_per_min=rate_limit_per_min, created_at=utcnow())
        with session_scope(self.db_url) as s:
            s.add(row)
        return f"va_{key_id}_{secret}", row

    def verify(self, presented: str) -> Principal | None:
        match = _KEY.match(presented.strip())
        if not match:
            return None
        key_id, secret = match.groups()
        with session_scope(self.db_url) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None or row.revoked_at is not None:
                return None
            if not hmac.compare_digest(row.secret_hash, _hash(secret)):
                return None
            return Principal(row.id, row.tenant_id, row.rate_limit_per_min)

    def touch(self, key_id: str) -> None:
        with session_scope(self.db_url) as s:
            s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id).values(last_used_at=utcnow()))

    def list(self, tenant_id: str | None = None) -> list[ApiKeyRow]:
        with session_scope(self.db_url) as s:
            stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
            if tenant_id:
                stmt = stmt.where(ApiKeyRow.tenant_id == tenant_id)
            return list(s.scalars(stmt))

    def revoke(self, key_id: str) -> bool:
        with session_scope(self.db_url) as s:
            res = s.execute(update(ApiKeyRow).where(ApiKeyRow.id == key_id, ApiKeyRow.revoked_at.is_(None))
                            .values(revoked_at=utcnow()))
            return rowcount(res) == 1
