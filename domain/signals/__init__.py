"""Signal parsing: every wire format users send, turned into one canonical ``Signal``.

Pure: bodies, settings and the time come in as arguments; ``Parsed`` or ``Refusal`` come out.
The HTTP layer (``ingress``) adds transport concerns (body size, content type, client address).
"""

from domain.signals.build import Parsed
from domain.signals.decode import decode_signal, detect
from domain.signals.dedupe import Deduper, fingerprint
from domain.signals.native import parse_native
from domain.signals.pineconnector import parse_pineconnector
from domain.signals.rate_limit import TokenBucket
from domain.signals.refusal import Refusal, RefusalCode, Refused, scrub
from domain.signals.settings import RateLimit, SignalFormat, SourceSettings
from domain.signals.staleness import check_fresh
from domain.signals.symbols import ResolvedSymbol, SymbolMap
from domain.signals.text_command import parse_text_command
from domain.signals.threecommas import parse_threecommas
from domain.signals.tradingview import parse_tradingview

__all__ = [
    "Deduper",
    "Parsed",
    "RateLimit",
    "Refusal",
    "RefusalCode",
    "Refused",
    "ResolvedSymbol",
    "SignalFormat",
    "SourceSettings",
    "SymbolMap",
    "TokenBucket",
    "check_fresh",
    "decode_signal",
    "detect",
    "fingerprint",
    "parse_native",
    "parse_pineconnector",
    "parse_text_command",
    "parse_threecommas",
    "parse_tradingview",
    "scrub",
]
