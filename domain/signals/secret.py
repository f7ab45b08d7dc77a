"""The per-source shared secret carried inside the body, compared in constant time.

TradingView cannot sign requests or add headers, so the secret travels in the alert message.
It is checked before anything else in the body is interpreted (an unauthenticated sender learns
nothing about our validation), and it never leaves this module in a message.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr

from domain.signals.refusal import RefusalCode, Refused


def verify_secret(presented: object, expected: SecretStr, where: str = "'secret'") -> None:
    """Raise ``Refused(bad_secret)`` unless ``presented`` equals the configured secret."""
    if presented is None:
        raise Refused(RefusalCode.BAD_SECRET, f"the secret is missing: put it in {where}")
    if not isinstance(presented, str):
        raise Refused(RefusalCode.BAD_SECRET, f"the secret in {where} must be text")
    ok = hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"),
        expected.get_secret_value().encode("utf-8", "surrogatepass"),
    )
    if not ok:
        raise Refused(RefusalCode.BAD_SECRET, f"the secret in {where} is wrong")
