"""Test-only token issuer: RSA keys, a local OpenID metadata + JWKS server, and JWT minting.

botbuilder fetches OpenID metadata with *blocking* `requests.get` from inside a coroutine, so the
metadata server runs on its own thread (a plain `ThreadingHTTPServer`), never on the event loop.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

APP_ID = "5a0c1e0e-7e57-4b07-9d1a-0000000000b0"
ISSUER = "https://api.botframework.test"
KID = "kivett-test-key-1"
OTHER_KID = "kivett-test-key-unknown"
CHANNEL_ID = "msteams"

# One key pair for the whole test module run: the "real" channel key published in the JWKS, and an
# attacker's key that is never published.
CHANNEL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ATTACKER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)

DROP = object()
"""Pass as a claim value to leave that claim out of the token."""


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def jwks_document(endorsements: tuple[str, ...] = (CHANNEL_ID,)) -> dict[str, Any]:
    """The channel's published key, endorsed for `endorsements` (Teams only by default)."""
    jwk = json.loads(RSAAlgorithm.to_jwk(CHANNEL_KEY.public_key()))
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256", "endorsements": list(endorsements)})
    return {"keys": [jwk]}


def claims(service_url: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not DROP}


def mint(
    service_url: str,
    *,
    key: rsa.RSAPrivateKey = CHANNEL_KEY,
    kid: str | None = KID,
    algorithm: str = "RS256",
    **overrides: Any,
) -> str:
    """A signed JWT like the Bot Framework channel sends, with the given claims changed."""
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims(service_url, **overrides), key, algorithm=algorithm, headers=headers)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def mint_unsigned(service_url: str) -> str:
    """alg=none: valid claims, no signature at all."""
    header = {"alg": "none", "typ": "JWT", "kid": KID}
    return f"{_segment(header)}.{_segment(claims(service_url))}."


def mint_hs256_with_public_key(service_url: str) -> str:
    """Key confusion: HS256, with the channel's *public* key (PEM) as the HMAC secret.

    PyJWT refuses to build this token, so it is assembled by hand."""
    header = {"alg": "HS256", "typ": "JWT", "kid": KID}
    signing_input = f"{_segment(header)}.{_segment(claims(service_url))}"
    signature = hmac.new(
        public_pem(CHANNEL_KEY), signing_input.encode("ascii"), hashlib.sha256
    ).digest()
    return f"{signing_input}.{_b64(signature)}"


class OpenIdServer:
    """OpenID metadata at /.well-known/openid-configuration, keys at /keys, on its own thread."""

    def __init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                if self.path == "/.well-known/openid-configuration":
                    self._json({"issuer": ISSUER, "jwks_uri": f"{server.base_url}/keys"})
                elif self.path == "/keys":
                    self._json(jwks_document())
                else:
                    self.send_error(404)

            def _json(self, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.hits: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self.metadata_url = f"{self.base_url}/.well-known/openid-configuration"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="openid-test-server", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
