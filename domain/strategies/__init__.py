"""Python signal sources: the strategy plugin interface and the built-in strategies."""
