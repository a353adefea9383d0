"""Plots and the HTML report: every analysis of :mod:`hotmess.analysis` on one page.

:func:`build_report` runs the analyses on a samples table and collects tables, PNG figures and notes;
:func:`write_html` writes one self-contained HTML file; :func:`write_tables` writes the tables as JSON or
Parquet files.
"""

from hotmess.report.build import Banner, Report, ReportOptions, Section, build_report, load_inputs
from hotmess.report.html import render_html, table_html, write_html, write_tables

__all__ = [
    "Banner",
    "Report",
    "ReportOptions",
    "Section",
    "build_report",
    "load_inputs",
    "render_html",
    "table_html",
    "write_html",
    "write_tables",
]
