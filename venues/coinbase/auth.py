"""Coinbase's per-request CDP JWT (ES256), signed with a key parsed once.

ccxt signs every private Coinbase request with a fresh JWT and, to do it, parses the PEM key again
and works out the signature's recovery id (which ES256 does not use): about half a millisecond per
request, twice per order. ``CoinbaseExchange`` overrides ccxt's public ``create_auth_token`` to
build the same header and claims and the same deterministic, low-s signature (the tests compare
the two), with the parsed key kept for as long as the secret does not change.
"""

from __future__ import annotations

from typing import Any

import ccxt.async_support as ccxt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import load_pem_private_key

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_ES256 = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)


class CoinbaseExchange(ccxt.coinbase):  # type: ignore[misc]
    """ccxt's Coinbase, with the CDP signing key parsed once instead of per request."""

    _tapeline_key: tuple[str, ec.EllipticCurvePrivateKey] | None = None

    def create_auth_token(
        self, seconds: Any, method: Any = None, url: Any = None, useEddsa: Any = False
    ) -> str:
        key = None if useEddsa else self._signing_key()
        if key is None:  # not a PEM EC key: ccxt's own path, and its own errors
            return str(super().create_auth_token(seconds, method, url, useEddsa))
        claims: dict[str, Any] = {
            "aud": ["retail_rest_api_proxy"],
            "iss": "coinbase-cloud",
            "nbf": seconds,
            "exp": seconds + 120,
            "sub": self.apiKey,
            "iat": seconds,
        }
        if url is not None:
            claims["uri"] = (method + " " + url.replace("https://", "")).split("?", 1)[0]
        header = {"alg": "ES256", "typ": "JWT", "kid": self.apiKey, "nonce": self.random_bytes(16)}
        token = (
            self.urlencode_base64(self.encode(self.json(header)))
            + "."
            + self.urlencode_base64(self.encode(self.json(claims)))
        )
        return token + "." + self.urlencode_base64(_es256(key, token.encode()))

    def _signing_key(self) -> ec.EllipticCurvePrivateKey | None:
        secret = str(self.secret or "")
        if self._tapeline_key is None or self._tapeline_key[0] != secret:
            try:
                key = load_pem_private_key(secret.encode(), None)
            except (ValueError, TypeError):
                return None
            if not isinstance(key, ec.EllipticCurvePrivateKey):
                return None
            self._tapeline_key = (secret, key)
        return self._tapeline_key[1]


def _es256(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """The JOSE form of an ES256 signature: r and s, 32 bytes each, s in its low form."""
    r, s = decode_dss_signature(key.sign(message, _ES256))
    if s > _P256_ORDER // 2:
        s = _P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
