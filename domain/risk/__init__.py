"""Pre-trade risk, pure: sizing, rules, the risk view folded from the tape, and decisions.

Import the modules directly (``domain.risk.engine``, ``domain.risk.view`` ...): this package
stays import-free so that ``domain.events`` can use ``domain.risk.config`` without a cycle.
"""
