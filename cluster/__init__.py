"""Launching, configuration, CLI and runtime wiring.

When output is not a terminal (CI logs, pipes), tables are rendered 160 columns wide rather
than rich's 80, so figures are not cut.
"""

import os
import sys

if not sys.stdout.isatty():
    os.environ.setdefault("COLUMNS", "160")
