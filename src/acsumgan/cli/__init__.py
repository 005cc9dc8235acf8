"""The ``acsumgan`` command: one entry point, sub-commands a person can guess.

Every user-caused problem (:mod:`acsumgan.errors`) prints one line,
``acsumgan: error: <file>: <problem>``, and exits with that problem's own code;
``--debug`` (or ``ACSUMGAN_DEBUG=1``) shows the traceback instead.
"""

from __future__ import annotations

import os
import sys

import click

from ..errors import AcsumganError, InterruptedByUser
from . import baseline as _baseline  # noqa: F401,E402

# Importing the command modules registers their commands on ``cli``.
from . import dataset as _dataset  # noqa: F401,E402
from . import demo as _demo  # noqa: F401,E402
from . import evaluate as _evaluate  # noqa: F401,E402
from . import experiment as _experiment  # noqa: F401,E402
from . import splits as _splits  # noqa: F401,E402
from . import summarize as _summarize  # noqa: F401,E402
from . import train as _train  # noqa: F401,E402
from .common import cli


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ACSUMGAN_DEBUG") == "1"
    try:
        cli.main(args=args, prog_name="acsumgan", standalone_mode=False)
    except AcsumganError as exc:
        if debug:
            raise
        click.echo(f"acsumgan: error: {exc.one_line()}", err=True)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        if debug:
            raise
        click.echo("acsumgan: error: interrupted (Ctrl-C); finished results were kept", err=True)
        sys.exit(InterruptedByUser.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)
