"""Command: ``export`` (a summary folder's shots as an edit decision list or a contact sheet)."""

from __future__ import annotations

import click

from .common import cli, console, shown

#: The formats of ``--format`` (acsumgan.summarize.exports.FORMATS, named here so that
#: ``acsumgan --help`` does not import OpenTimelineIO).
FORMAT_CHOICES = ("otio", "edl", "fcpxml", "contact-sheet")


@cli.command("export")
@click.argument("summary_dir", type=click.Path(file_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    required=True,
    help="otio: an OpenTimelineIO timeline; edl: CMX 3600; fcpxml: Final Cut Pro 7 XML (Premiere, Resolve); "
    "contact-sheet: one JPEG of the kept shots' middle frames.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    default=None,
    help="File to write [default: SUMMARY_DIR/summary.otio, summary.edl, summary.xml or shots.jpg].",
)
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
def export(summary_dir, fmt, out, force) -> None:
    """Export the kept shots of SUMMARY_DIR (a folder `acsumgan summarize` wrote, holding
    segments.json) for an editor: each clip is a kept shot's frame range of the source
    video, in order, to the frame."""
    # OpenTimelineIO and PyAV: loaded when the command runs, not for `acsumgan --help`
    from ..summarize.exports import export_summary

    path = export_summary(summary_dir, fmt, out, force=force)
    console.print(f"{fmt}: {shown(path)}", soft_wrap=True)
