"""Command: ``export`` (a summary folder's shots as an edit decision list or a contact sheet)."""

from __future__ import annotations

import click

from .common import cli, console, shown

#: The formats of ``--format`` (acsumgan.summarize.exports.FORMATS, named here so that
#: ``acsumgan --help`` does not import OpenTimelineIO).
FORMAT_CHOICES = ("otio", "edl", "fcpxml", "gif", "webp", "contact-sheet")


@cli.command("export")
@click.argument("summary_dir", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    required=True,
    help="otio: an OpenTimelineIO timeline; edl: CMX 3600; fcpxml: Final Cut Pro 7 XML (Premiere, Resolve); "
    "gif, webp: an animated preview of the kept ranges (size-capped); "
    "contact-sheet: one JPEG of the kept shots' middle frames.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write [default: SUMMARY_DIR/summary.otio, summary.edl, summary.xml, summary.gif, "
    "summary.webp or shots.jpg].",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@click.option(
    "--width",
    type=click.IntRange(min=16),
    default=320,
    show_default=True,
    help="gif, webp: the preview's width in pixels (at most the video's).",
)
@click.option(
    "--fps",
    type=click.FloatRange(min=0.25, max=60),
    default=6.0,
    show_default=True,
    help="gif, webp: frames per second of the preview (at most the video's).",
)
@click.option(
    "--max-mb",
    "max_mb",
    type=click.FloatRange(min=0.01),
    default=8.0,
    show_default=True,
    help="gif, webp: the preview's size cap in MB (fewer frames per second, then narrower, until it fits).",
)
def export(summary_dir, fmt, out, force, width, fps, max_mb) -> None:
    """Export the kept shots of SUMMARY_DIR (a folder `acsumgan summarize` wrote, holding
    segments.json) for an editor: each clip is a kept shot's frame range of the source
    video, in order, to the frame; or as an animated preview (gif, webp) or a contact sheet.
    An edited summary (`acsumgan render`) exports its kept, trimmed ranges."""
    # OpenTimelineIO and PyAV: loaded when the command runs, not for `acsumgan --help`
    from ..summarize.exports import export_summary

    max_bytes = int(max_mb * 1024 * 1024)
    path = export_summary(summary_dir, fmt, out, force=force, width=width, fps=fps, max_bytes=max_bytes)
    console.print(f"{fmt}: {shown(path)}", soft_wrap=True)
