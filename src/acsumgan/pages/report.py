"""``report.html``: an experiment report as one page a person opens in a browser.

The caller (:func:`acsumgan.experiment.report.write_report`) gives the page's
sections; each has paragraphs (where ```code``` spans become ``<code>``), tables, notes
under them and figures. A table cell is a string or a :class:`Cell` (bold, and/or links); figures
are PNG files embedded as ``data:`` URIs, so the page is one file; links are
relative to the page (a run's files). Tables scroll sideways on a narrow screen
instead of widening the page.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..fileio import write_text
from .common import esc, page


@dataclass
class Link:
    label: str
    href: str  # relative to the page


@dataclass
class Cell:
    """A table cell: ``text`` (bold when ``strong``), then ``links``."""

    text: str = ""
    strong: bool = False
    links: list[Link] = field(default_factory=list)


@dataclass
class Table:
    """``name`` is the table's hook (``data-table``) for readers and tests."""

    headers: list[str]
    rows: list[list[str | Cell]]
    name: str = ""


@dataclass
class Figure:
    path: Path  # a PNG file, embedded in the page
    caption: str


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # paragraphs after the tables


REPORT_CSS = """
main{padding-bottom:20px}
.card p{margin:0 0 8px;max-width:80ch}
.card p.note{color:var(--muted);font-size:.92rem;margin-top:8px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:#eef1f4;
padding:0 4px;border-radius:4px}
.table-wrap{overflow-x:auto;margin:4px 0 10px;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;font-size:.92rem;font-variant-numeric:tabular-nums}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
thead th{background:#eef1f4;font-weight:600;position:sticky;top:0}
tbody tr:nth-child(even){background:#fafbfc}
tbody tr:hover{background:#eef5ff}
td .links a{margin-right:8px}
.figures{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0;max-width:100%}
figure img{display:block;max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{color:var(--muted);font-size:.88rem;margin-top:4px}
.missing{color:#c92a2a}
@media (max-width:520px){header,main{padding-left:10px;padding-right:10px}h1{font-size:1.2rem}}
"""

_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    """Escaped text with ```code``` spans."""
    return _CODE.sub(lambda m: f"<code>{m.group(1)}</code>", esc(text))


def _cell(c: str | Cell, tag: str = "td") -> str:
    if not isinstance(c, Cell):
        return f"<{tag}>{esc(c)}</{tag}>"
    text = f"<strong>{esc(c.text)}</strong>" if c.strong else esc(c.text)
    links = ""
    if c.links:
        links = "".join(f'<a href="{esc(k.href)}">{esc(k.label)}</a>' for k in c.links)
        links = f'<span class="links">{links}</span>'
    return f"<{tag}>{text}{links}</{tag}>"


def _table(t: Table) -> str:
    head = "".join(f'<th scope="col">{esc(h)}</th>' for h in t.headers)
    body = "\n".join("<tr>" + "".join(_cell(c) for c in row) + "</tr>" for row in t.rows)
    return (
        f'<div class="table-wrap"><table data-table="{esc(t.name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _figure(f: Figure) -> str:
    try:
        data = base64.b64encode(Path(f.path).read_bytes()).decode("ascii")
    except OSError:
        return f'<figure><p class="missing">missing plot: {esc(Path(f.path).name)}</p></figure>'
    return (
        f'<figure><img class="plot" src="data:image/png;base64,{data}" alt="{esc(f.caption)}">'
        f"<figcaption>{esc(f.caption)}</figcaption></figure>"
    )


def report_html(title: str, sections: list[Section], subtitle: str = "") -> str:
    """The text of the report page."""
    parts = [
        f"<header><h1>{_inline(title)}</h1>"
        + (f'<p class="sub">{_inline(subtitle)}</p>' if subtitle else "")
        + "</header>\n<main>"
    ]
    for i, s in enumerate(sections):
        sid = f"s{i + 1}"
        parts.append(f'<section class="card" aria-labelledby="{sid}"><h2 id="{sid}">{_inline(s.title)}</h2>')
        parts += [f"<p>{_inline(p)}</p>" for p in s.paragraphs]
        parts += [_table(t) for t in s.tables]
        parts += [f'<p class="note">{_inline(p)}</p>' for p in s.notes]
        if s.figures:
            parts.append('<div class="figures">' + "".join(_figure(f) for f in s.figures) + "</div>")
        parts.append("</section>")
    parts.append("</main>")
    plain = _CODE.sub(lambda m: m.group(1), title)
    return page(plain, REPORT_CSS, "\n".join(parts))


def write_report_page(path: str | os.PathLike, title: str, sections: list[Section], subtitle: str = "") -> Path:
    """Write the report page (atomically) and return its path."""
    return write_text(path, report_html(title, sections, subtitle))
