"""What the pages share: the base style, the page frame, escaping."""

from __future__ import annotations

import html

BASE_CSS = """
:root{--fg:#1b2430;--muted:#5a6675;--bg:#f4f6f8;--card:#fff;--line:#d8dee5;--accent:#1864ab;
--kept:#e8590c;--kept-bg:#ffe3cc;--curve:#1971c2;--curve-bg:#d0e7ff;--focus:#7b2ff7}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1240px;margin:0 auto;padding:0 16px}
header{padding-top:14px}
h1{font-size:1.45rem;margin:0 0 2px;overflow-wrap:anywhere}
h2{font-size:1.05rem;margin:0 0 8px}
.sub{color:var(--muted);margin:0 0 8px}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;margin:0 0 14px;
min-width:0}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.tnum{font-variant-numeric:tabular-nums}
footer{color:var(--muted);font-size:.85rem;padding-bottom:20px}
"""

#: The pages load nothing from the network: only files beside them, ``data:`` and ``blob:``.
CSP = (
    "default-src 'none'; img-src 'self' file: data: blob:; media-src 'self' file: data: blob:; "
    "style-src 'unsafe-inline'; script-src 'unsafe-inline'"
)


def esc(text) -> str:
    """``text`` escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def page(title: str, css: str, body: str, script: str = "") -> str:
    """A whole HTML document: viewport and policy metas, the base style plus ``css``, ``body``,
    then ``script`` inline."""
    js = f"<script>{script}</script>\n" if script else ""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n<body>\n{body}\n{js}"
        "</body>\n</html>\n"
    )
