"""MkDocs hook: the docstrings' Sphinx roles (``:func:`~a.b.name```) read as plain code on
the API page (``name``), the way Sphinx would show them."""

from __future__ import annotations

import re

ROLE = re.compile(r":(?:func|class|meth|mod|attr|data|exc|obj):<code>(~?)([^<]+)</code>")


def _short(match: re.Match) -> str:
    tilde, target = match.groups()
    return f"<code>{target.rsplit('.', 1)[-1] if tilde else target}</code>"


def on_page_content(html: str, **kwargs) -> str:
    return ROLE.sub(_short, html)
