"""The tape (event store) and its codecs."""

from store.factory import DEFAULT_URL, open_tape, redact
from store.tape import ConcurrencyConflict, Recorded, Tape

__all__ = ["DEFAULT_URL", "ConcurrencyConflict", "Recorded", "Tape", "open_tape", "redact"]
