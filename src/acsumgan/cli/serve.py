"""Command: ``serve`` (the summary studio, a local web app)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import check_seed, cli


@cli.command()
@click.argument("folders", nargs=-1, type=click.Path(exists=True, file_okay=False))
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default="acsumgan-studio",
    show_default=True,
    help="The studio's folder: uploads/ and one output folder per video (its summary, analysis, edits, exports).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but loopback lets other machines reach the studio (a warning is printed).",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True, help="Port (0: any free one).")
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Jobs that run at once; others queue."
)
@click.option(
    "--max-upload-mb",
    "max_upload_mb",
    type=click.FloatRange(0, min_open=True),
    default=4096,
    show_default=True,
    help="Largest upload accepted (MB).",
)
@click.option(
    "--model",
    default=None,
    help="Summarize with this model (a checkpoint, run or experiment folder, as `summarize --model`); "
    "without it each video trains its own, as `summarize` does.",
)
@click.option(
    "--epochs", type=click.IntRange(min=1), default=None, help="Without --model: training epochs.  [default: 20]"
)
@click.option("--seed", type=int, default=0, show_default=True, callback=check_seed, help="Seed of the summarize jobs.")
@click.option(
    "--device",
    type=click.Choice(["auto", "cpu", "cuda"]),
    default="auto",
    show_default=True,
    help="Where the jobs compute.",
)
@click.option("--threads", type=click.IntRange(min=1), default=None, help="CPU threads of each job.")
def serve(folders, out, host, port, workers, max_upload_mb, model, epochs, seed, device, threads) -> None:
    """Start the summary studio: a local web app to summarize, edit and export the videos
    of FOLDERS (and videos uploaded in the page).

    Prints the URL to open, with a random access token (the page keeps it in a cookie); opens
    nothing itself. Summaries, edits (edits.json) and exports go to --out, one folder per
    video, the same files `acsumgan summarize VIDEO --out DIR/<video>` writes; a restarted
    server finds them all again. Listens on 127.0.0.1 only unless --host says otherwise.
    Ctrl-C stops it (running jobs are stopped; finished work is kept).
    """
    # Starlette and uvicorn: loaded when the command runs, not for `acsumgan --help`
    from ..studio.app import StudioConfig
    from ..studio.server import serve as run_server

    config = StudioConfig(
        folders=[Path(f) for f in folders],
        out=Path(out),
        host=host,
        port=port,
        workers=workers,
        max_upload_mb=max_upload_mb,
        model=model,
        epochs=epochs,
        seed=seed,
        device=device,
        threads=threads,
    )
    run_server(config)
