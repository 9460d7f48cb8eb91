"""Encryption at rest for secrets the server must use later (webhook secrets, provider keys).

They cannot be hashed, because signing a webhook or calling a provider needs the plaintext; so
they are encrypted with Fernet (AES-128-CBC + HMAC) under ``Settings.encryption_key()``.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, key: bytes):
        self._fernet = Fernet(key)

    def seal(self, value: Any) -> str:
        return self._fernet.encrypt(json.dumps(value).encode()).decode()

    def open(self, token: str | None) -> Any:
        if not token:
            return None
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise RuntimeError("stored secret cannot be decrypted: wrong VIDASSETS_SECRET_KEY?") from exc
