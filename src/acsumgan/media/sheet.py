"""A contact sheet: one JPEG of frames of a video (e.g. each kept shot's middle frame).

Only :mod:`acsumgan.media` decodes (PyAV); the summary's exports
(:mod:`acsumgan.summarize.exports`) call :func:`write_contact_sheet`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from PIL import Image

from ..fileio import atomic_path
from .browser import middle_frames

__all__ = ["write_contact_sheet"]


def write_contact_sheet(
    video_path: str | os.PathLike,
    shots: Sequence[tuple[int, int]],
    path: str | os.PathLike,
    width: int = 240,
    columns: int = 4,
    gap: int = 4,
) -> Path:
    """One JPEG at ``path`` (atomic): the middle frame ``(first + last) // 2`` of each
    inclusive frame range in ``shots``, in order, ``columns`` to a row, each at most
    ``width`` pixels wide (upright, as :func:`~acsumgan.media.browser.write_thumbnails`),
    ``gap`` pixels apart on black. ValueError for no shot."""
    if not shots:
        raise ValueError("a contact sheet needs at least one shot")
    if int(columns) < 1:
        raise ValueError(f"columns must be at least 1, got {columns}")
    images = middle_frames(video_path, shots, width)
    cell_w = max(im.width for im in images)
    cell_h = max(im.height for im in images)
    cols = min(int(columns), len(images))
    rows = -(-len(images) // cols)
    sheet = Image.new("RGB", (cols * cell_w + (cols + 1) * gap, rows * cell_h + (rows + 1) * gap))
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet.paste(im, (gap + c * (cell_w + gap), gap + r * (cell_h + gap)))
    out = Path(path)
    with atomic_path(out) as tmp:
        sheet.save(tmp, format="JPEG", quality=85)
    return out
