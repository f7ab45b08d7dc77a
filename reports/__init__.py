"""Performance reports: a rich table for the terminal and a self-contained HTML file."""

from reports.html import render_html, write_html_report
from reports.table import render_table

__all__ = ["render_html", "render_table", "write_html_report"]
