"""Fake Google endpoints on loopback: an OAuth token endpoint, Vertex that checks bearers, Cloud
Storage's JSON API and the Gemini API, each following Google's documented request and answer shapes.

* :class:`FakeTokenEndpoint` is a service account's ``token_uri``: it takes the JWT-bearer grant
  google-auth sends (``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>``),
  verifies the RS256 signature with the public half of the key :func:`service_account` made, checks
  the claims (``iss``, ``aud`` = Google's token audience, the cloud-platform ``scope``, ``exp`` within an hour
  of ``iat``) and issues ``{"access_token", "expires_in", "token_type": "Bearer"}``. Tokens expire on
  the test's :class:`FakeClock`, so a run that polls long enough outlives one.
* :class:`AuthedVertex` answers 401 ``UNAUTHENTICATED`` to a bearer that is unknown, expired or revoked.
* :class:`FakeGcs` serves ``GET /storage/v1/b/{bucket}/o/{object}?alt=media`` to a live bearer.
* :class:`FakeGemini`: ``POST /v1beta/models/{model}:predictLongRunning`` and ``GET /v1beta/{operation}``
  with ``x-goog-api-key``, refusing Vertex-only fields with 400 ``INVALID_ARGUMENT`` as the API
  does, and ``GET /v1beta/files/{id}:download?alt=media`` redirecting (302) to the file's storage host.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from typing import Any
from urllib.parse import parse_qs, unquote

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.providers.fakes import FakeClock, FakeServer, FakeVertex, Reply, Seen, VendorFake

CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
# Google: "When making an access token request this value is always https://oauth2.googleapis.com/token".
TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
GEMINI_KEY = "AIzaSyFakeKey0123456789abcdefghijklmno"
UNAUTHENTICATED = {"error": {"code": 401, "message": "Request had invalid authentication credentials. Expected "
                             "OAuth 2 access token.", "status": "UNAUTHENTICATED"}}


def _b64url(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def service_account(token_uri: str, project: str = "sa-project") -> tuple[dict[str, Any], rsa.RSAPublicKey]:
    """A service-account key file's content with a freshly generated RSA key, and its public half."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    info = {"type": "service_account", "project_id": project, "private_key_id": "k1", "private_key": pem,
            "client_email": f"vidassets@{project}.iam.gserviceaccount.com", "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri}
    return info, key.public_key()


class FakeTokenEndpoint(FakeServer):
    """``POST /token``: the JWT-bearer grant of a service account (see the module docstring)."""

    def __init__(self, clock: FakeClock, lifetime_s: int = 3600) -> None:
        super().__init__()
        self.clock = clock
        self.lifetime_s = lifetime_s
        self.public_key: rsa.RSAPublicKey | None = None
        self.client_email = ""
        self.grants: list[str] = []  # tokens issued, in order
        self.refused: list[str] = []  # why grants were refused
        self._expires: dict[str, float] = {}
        self._revoked: set[str] = set()
        self._ids = itertools.count(1)

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def key_file(self, project: str = "sa-project") -> dict[str, Any]:
        info, public = service_account(self.token_uri, project)
        self.public_key, self.client_email = public, info["client_email"]
        return info

    def live(self, bearer: str | None) -> bool:
        token = (bearer or "").removeprefix("Bearer ")
        with self.lock:
            expires = self._expires.get(token)
            return expires is not None and token not in self._revoked and self.clock.now < expires

    def revoke(self, token: str) -> None:
        with self.lock:
            self._revoked.add(token)

    def route(self, seen: Seen) -> Reply:
        if seen.method != "POST" or seen.path != "/token":
            return super().route(seen)
        raw = seen.body if isinstance(seen.body, bytes) else json.dumps(seen.body).encode()
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        problem = self._check(form)
        if problem:
            self.refused.append(problem)
            return Reply(400, {"error": "invalid_grant", "error_description": problem})
        with self.lock:
            token = f"ya29.fake-token-{next(self._ids)}-{'x' * 24}"
            self._expires[token] = self.clock.now + self.lifetime_s
            self.grants.append(token)
        return Reply(200, {"access_token": token, "expires_in": self.lifetime_s, "token_type": "Bearer"})

    def _check(self, form: dict[str, str]) -> str | None:
        if form.get("grant_type") != JWT_BEARER or "assertion" not in form:
            return "unsupported grant"
        try:
            head, claims, signature = form["assertion"].split(".")
            header, payload = json.loads(_b64url(head)), json.loads(_b64url(claims))
        except ValueError:
            return "malformed assertion"
        if header.get("alg") != "RS256" or self.public_key is None:
            return "unexpected signing algorithm"
        try:
            self.public_key.verify(_b64url(signature), f"{head}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return "Invalid JWT Signature."
        if payload.get("iss") != self.client_email or payload.get("aud") != TOKEN_AUDIENCE:
            return "Invalid JWT: iss or aud"
        if CLOUD_PLATFORM not in str(payload.get("scope", "")).split():
            return "Invalid JWT: scope"
        if not 0 < int(payload.get("exp", 0)) - int(payload.get("iat", 0)) <= 3600:
            return "Invalid JWT: lifetime"
        return None


class AuthedVertex(FakeVertex):
    """Vertex that takes only live bearers of ``tokens``; ``bearers`` lists what each call carried."""

    def __init__(self, tokens: FakeTokenEndpoint) -> None:
        super().__init__()
        self.tokens = tokens
        self.unauthorised = 0

    def route(self, seen: Seen) -> Reply:
        if not self.tokens.live(seen.headers.get("authorization")):
            with self.lock:
                self.unauthorised += 1
            return Reply(401, UNAUTHENTICATED, {"www-authenticate": 'Bearer realm="https://accounts.google.com/"'})
        return super().route(seen)

    def bearers(self, pattern: str) -> list[str]:
        return [r.headers.get("authorization", "").removeprefix("Bearer ") for r in self.seen("POST", pattern)]


class FakeGcs(FakeServer):
    """Cloud Storage's JSON API media download for live bearers of ``tokens``."""

    def __init__(self, tokens: FakeTokenEndpoint) -> None:
        super().__init__()
        self.tokens = tokens
        self.objects: dict[tuple[str, str], bytes] = {}

    def route(self, seen: Seen) -> Reply:
        match = re.fullmatch(r"/storage/v1/b/([^/]+)/o/([^/]+)", seen.path)
        if seen.method != "GET" or not match:
            return super().route(seen)
        if not self.tokens.live(seen.headers.get("authorization")):
            return Reply(401, UNAUTHENTICATED)
        if seen.query.get("alt") != ["media"]:
            return Reply(200, {"kind": "storage#object"})
        data = self.objects.get((unquote(match.group(1)), unquote(match.group(2))))
        if data is None:
            return Reply(404, {"error": {"code": 404, "message": "No such object", "status": "NOT_FOUND"}})
        return Reply(200, data, {"content-type": "video/mp4"})


_GEMINI_PARAMETERS = {"aspectRatio", "durationSeconds", "negativePrompt", "personGeneration", "resolution",
                      "seed", "sampleCount", "enhancePrompt"}
_GEMINI_INSTANCE = {"prompt", "image", "lastFrame", "referenceImages", "video"}


def _invalid(message: str) -> Reply:
    return Reply(400, {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}})


class FakeGemini(VendorFake):
    """The Gemini API's Veo calls (module docstring). ``storage`` serves the files a download redirects to."""

    def __init__(self, storage: FakeServer) -> None:
        super().__init__()
        self.storage = storage
        self.created = 0
        self.filtered: list[str] | None = None  # raiMediaFilteredReasons to answer instead of a video
        self.operations: dict[str, str] = {}  # operation name -> file id

    def route(self, seen: Seen) -> Reply:
        if seen.headers.get("x-goog-api-key") != GEMINI_KEY:
            return Reply(400, {"error": {"code": 400, "message": "API key not valid. Please pass a valid API key.",
                                         "status": "INVALID_ARGUMENT"}})
        create = re.fullmatch(r"/v1beta/models/([^/:]+):predictLongRunning", seen.path)
        if create and seen.method == "POST":
            return self._create(create.group(1), seen.body)
        if seen.method == "GET" and seen.path.startswith("/v1beta/models/") and "/operations/" in seen.path:
            return self._operation(seen.path[len("/v1beta/"):])
        download = re.fullmatch(r"/v1beta/files/([^/:]+):download", seen.path)
        if download and seen.method == "GET" and seen.query.get("alt") == ["media"]:
            return Reply(302, b"", {"location": self.storage.file_url(f"{download.group(1)}.mp4")})
        return super().route(seen)

    def _create(self, model: str, body: Any) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("instances"), list) or len(body["instances"]) != 1:
            return _invalid("instances: exactly one instance is required")
        instance, parameters = body["instances"][0], body.get("parameters") or {}
        unknown = sorted(set(instance) - _GEMINI_INSTANCE) + sorted(set(parameters) - _GEMINI_PARAMETERS)
        if unknown:
            return _invalid(f"{unknown[0]} isn't supported by this model.")
        for field in ("image", "lastFrame"):
            image = instance.get(field)
            if image is not None and not (isinstance(image, dict) and image.get("bytesBase64Encoded")
                                          and image.get("mimeType") and "gcsUri" not in image):
                return _invalid(f"{field}: inline bytesBase64Encoded and mimeType are required")
        with self.lock:
            self.created += 1
            name = f"models/{model}/operations/{self.next_id('op')}"
            self.operations[name] = f"file{self.created}"
        self.made(name)
        return Reply(200, {"name": name})

    def _operation(self, name: str) -> Reply:
        if name not in self.operations:
            return Reply(404, {"error": {"code": 404, "message": "Operation not found", "status": "NOT_FOUND"}})
        if self.poll() < self.polls_needed:
            return Reply(200, {"name": name, "done": False})
        if self.filtered is not None:
            result: dict[str, Any] = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": self.filtered}
        else:
            uri = f"{self.url}/v1beta/files/{self.operations[name]}:download?alt=media"
            result = {"generatedSamples": [{"video": {"uri": uri}}]}
        return Reply(200, {"name": name, "done": True, "response": {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
            "generateVideoResponse": result}})

