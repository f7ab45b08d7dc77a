"""Venue choice for an approved intent (the router's rule, pure)."""

from __future__ import annotations

from domain.events import OrderIntentApproved


class NoVenue(ValueError):
    pass


def choose_venue(intent: OrderIntentApproved, venues: list[str], default: str) -> str:
    """The intent's own venue when it names one we run, else the default."""
    if intent.venue is not None:
        if intent.venue not in venues:
            raise NoVenue(f"intent asks for venue {intent.venue!r}, not one of {venues}")
        return intent.venue
    if default not in venues:
        raise NoVenue(f"default venue {default!r} is not running")
    return default
