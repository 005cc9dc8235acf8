"""Review pages a person opens in a browser: self-contained, offline HTML.

- :mod:`.summary`: ``summary.html`` of one summarized video (the original in a player,
  a timeline of the importance curve and the shots, one thumbnail per shot, the
  summary video, the totals, links to the files) and ``index.html`` of several (the
  thumbnails and the video the browser plays are made by :mod:`acsumgan.media.browser`);
- :mod:`.report`: ``report.html`` of an experiment (tables, plots embedded, links);
- :mod:`.plots`: the PNG plots people read (``scores.png`` of a summary, the report's
  style: legends outside the axes, integer epochs, light shot ticks when there are many).

The pages make no network request: styles and scripts are inline, every other
file is a relative link beside the page (or, for the report's plots, a ``data:`` URI).
This package uses only :mod:`acsumgan.errors` and :mod:`acsumgan.fileio` of acsumgan.
"""

from .plots import score_figure, write_score_plot
from .report import Cell, Figure, Link, Section, Table, write_report_page
from .summary import IndexEntry, ShotView, SummaryView, timecode, write_index_page, write_summary_page

__all__ = [
    "Cell",
    "Figure",
    "IndexEntry",
    "Link",
    "Section",
    "ShotView",
    "SummaryView",
    "Table",
    "score_figure",
    "timecode",
    "write_index_page",
    "write_report_page",
    "write_summary_page",
    "write_score_plot",
]
