"""Observability: W3C trace context carried in events, OpenTelemetry spans derived from the
tape, and Ray metrics. Nothing here sits on the trading hot path."""
