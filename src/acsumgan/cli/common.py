"""The click group and the pieces several commands share."""

from __future__ import annotations

import math
import os
import re
import sys

import click
from rich.console import Console
from rich.markup import escape

from .. import __version__
from ..config import check_option

#: No highlighting, no emoji codes (``:smile:`` in a file name stays as it is).
console = Console(highlight=False, emoji=False)

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT)
@click.option("--debug", is_flag=True, help="Show full tracebacks instead of one-line errors.")
@click.version_option(__version__, prog_name="acsumgan")
def cli(debug: bool) -> None:
    """AC-SUM-GAN unsupervised video summarization.

    Train without labels on a collection of videos, evaluate with the benchmark's
    protocol, and summarize your own videos to a time budget.
    """


@cli.group(context_settings=CONTEXT)
def dataset() -> None:
    """Make, build, import and check eccv16-schema dataset files (HDF5)."""


@cli.group(context_settings=CONTEXT)
def splits() -> None:
    """Make and inspect splits files (JSON list of train/test keys)."""


#: Characters a terminal acts on: C0, DEL and C1 controls, and the line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def visible(text: str | bytes | os.PathLike) -> str:
    """``text`` (a name, a path, a line) as it is printed: each control character as its
    Python escape (ESC is the 4 characters ``\\x1b``, a newline ``\\x0a``), so that nothing in
    a name reaches the terminal raw and a line stays one line; a file name's byte that is
    not UTF-8 as ``\\xNN`` (``caf\\xe9.mp4``); and a character the terminal's encoding
    cannot show (e.g. under ``LC_ALL=C``) as its Python escape (``\\xfc``, ``\\u540d``)."""
    text = os.fsdecode(text)
    try:  # a name's bytes (decoded with surrogateescape) as UTF-8, a byte that is not UTF-8 as \xNN
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no byte of a name: escaped below
        pass
    text = CONTROL.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if m.group() < "\u0100" else f"\\u{ord(m.group()):04x}", text
    )
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def shown(text: str | os.PathLike) -> str:
    """``text`` made :func:`visible` and escaped for Rich markup: what every printed name and
    path goes through (``[/]``, ``[bold red]`` or ``[link=...]`` in a name print as they are)."""
    return escape(visible(text))


def note(text: str) -> None:
    """``acsumgan: note: TEXT`` on stderr, its names :func:`visible`."""
    click.echo(f"acsumgan: note: {visible(text)}", err=True)


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 video``, ``2 videos``: a number with its noun in the right number."""
    return f"{n} {noun if n == 1 else (plural or noun + 's')}"


def finite(ctx, param, value):
    """Click callback: FloatRange lets NaN through (every comparison with NaN is false)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number")
    return value


def check_seed(ctx, param, value):
    """Click callback of every --seed: an integer between 0 and 2**63 - 1, the rule of
    ``train --seed`` and of ``seed:`` in a config file (``config.check_option``), with
    its one-line ConfigError (exit 11): what torch's and NumPy's generators all take."""
    if value is None:
        return None
    return check_option("seed", value)


def budget_option(f):
    return click.option(
        "--budget",
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        default=0.15,
        show_default=True,
        callback=finite,
        help="Summary length as a fraction of the video (the benchmarks use 0.15).",
    )(f)


def device_option(f):
    return click.option(
        "--device",
        type=click.Choice(["auto", "cpu", "cuda"]),
        default="auto",
        show_default=True,
        help="Where to compute: auto picks cuda when a GPU is visible, else cpu.",
    )(f)
