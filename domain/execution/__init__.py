"""Pure execution logic for venue gateways: circuit breaker, rate budgets, backoff, the outcome
of an order whose placement went unanswered, and reconciliation of the tape with a venue.

No I/O and no clock here: callers pass the time, random draws and what the venue said.
"""
