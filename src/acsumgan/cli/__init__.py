"""The ``acsumgan`` command: one entry point, sub-commands a person can guess.

Every user-caused problem (:mod:`acsumgan.errors`) prints one line,
``acsumgan: error: <file>: <problem>``, and exits with that problem's own code;
``--debug`` (or ``ACSUMGAN_DEBUG=1``) shows the traceback instead.

SIGTERM and SIGHUP end a command as Ctrl-C does (:mod:`acsumgan.locks`): the current
atomic unit is finished or dropped, finished work is kept, one line says what was kept
and how to resume, and the exit code is 128 + the signal (130 Ctrl-C, 143 SIGTERM,
129 SIGHUP).
"""

from __future__ import annotations

import os
import signal
import sys
import threading

import click

from ..errors import AcsumganError, Terminated, interruption
from ..locks import die_with_parent, install_signal_handlers, restore_signal_handlers, signal_received
from . import baseline as _baseline  # noqa: F401,E402

# Importing the command modules registers their commands on ``cli``.
from . import dataset as _dataset  # noqa: F401,E402
from . import demo as _demo  # noqa: F401,E402
from . import evaluate as _evaluate  # noqa: F401,E402
from . import experiment as _experiment  # noqa: F401,E402
from . import export as _export  # noqa: F401,E402
from . import render as _render  # noqa: F401,E402
from . import serve as _serve  # noqa: F401,E402
from . import splits as _splits  # noqa: F401,E402
from . import summarize as _summarize  # noqa: F401,E402
from . import train as _train  # noqa: F401,E402
from .common import cli, visible

#: What an interrupted command keeps, by command (the default: any other command).
KEPT = {
    "train": "finished epochs were kept; run the same command again to resume",
    "experiment": "finished runs and epochs were kept; run the same command again to resume",
    "summarize": "finished features, model epochs and summaries were kept; run the same command again to go on",
    "build": "finished videos were kept (OUT.parts/); run the same command again to resume",
}


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ACSUMGAN_DEBUG") == "1"
    replaced = install_signal_handlers()
    die_with_parent()
    try:
        _run(args, debug)
    finally:
        restore_signal_handlers(replaced)


def _run(args: list[str], debug: bool) -> None:
    try:
        cli.main(args=args, prog_name="acsumgan", standalone_mode=False)
    except AcsumganError as exc:
        if debug:
            raise
        _say(f"acsumgan: error: {exc.one_line()}")
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort) as exc:
        if debug:
            raise
        # click turns a KeyboardInterrupt (a Terminated too) into Abort: the signal is its cause
        cause = exc if isinstance(exc, KeyboardInterrupt) else (exc.__cause__ or exc.__context__)
        if getattr(cause, "signum", None) is None and signal_received():  # a library lost which signal it was
            cause = Terminated(signal_received())
        how, code = interruption(cause)
        out = _option(args, "--out")
        kept = next((v for k, v in KEPT.items() if k in args[:2]), "finished results were kept")
        kept = kept.replace("OUT", out or "OUT")
        _say(f"acsumgan: error: {out + ': ' if out else ''}{how}; {kept}")
        sys.exit(code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.message = visible(exc.message)  # a file name in a usage error
        exc.show()
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.exit(0)


def _say(line: str) -> None:
    """The last line, never interrupted by a second signal, nor failing on a closed terminal (SIGHUP);
    control characters of a file name in it are shown as escapes (one line, nothing raw)."""
    line = visible(line)
    quiet = {}
    if threading.current_thread() is threading.main_thread():
        quiet = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        click.echo(line, err=True)
    except OSError:
        pass
    finally:
        for s, h in quiet.items():
            signal.signal(s, h)


def _option(args: list[str], name: str) -> str | None:
    """The value of ``name`` on the command line (``--out X`` or ``--out=X``), if given."""
    for i, a in enumerate(args):
        if a == name and i + 1 < len(args):
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1 :]
    return None
