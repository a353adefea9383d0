"""The ``hotmess`` command: a thin typer app that registers one module per subcommand.

Each subcommand module exposes ``register(app: typer.Typer) -> None``. Errors meant for users
(:class:`hotmess.errors.HotmessError`) are printed as one line on stderr with a non-zero exit code; pass
``--debug`` (or set ``HOTMESS_DEBUG=1``) to see the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import typer

from hotmess import __version__
from hotmess.errors import HotmessError, Interrupted

__all__ = ["EXIT_CODES", "app", "main"]

#: Every exit code of ``hotmess`` and what it means (documented in docs/cli.md).
EXIT_CODES: dict[int, str] = {
    0: "success (for `run`: every planned sample is stored, or a cap such as --max-samples stopped it)",
    1: "an unexpected error (a bug: rerun with --debug and report it)",
    2: "bad input or usage: a malformed file, an invalid option, a store that cannot be used",
    3: "a model backend failed in a way retrying cannot fix (bad key, unknown model, endpoint unreachable)",
    4: "`run` finished but some samples failed after their retries (stored as error rows; rerun to retry)",
    130: "interrupted (Ctrl-C / SIGINT): everything written so far is kept; rerun to resume",
}

#: The line printed on Ctrl-C when the command gave no more specific one.
INTERRUPTED = (
    "interrupted: everything written so far is kept; rerun the same command to resume "
    "(for hotmess synthetic, add --resume)"
)

#: Subcommand modules under ``hotmess.cli``, registered in this order.
SUBCOMMANDS: tuple[str, ...] = (
    "demo",
    "run",
    "analyze",
    "compare",
    "report",
    "store_cmd",
    "import_cmd",
    "embed",
    "synthetic",
)


def _no_flag_metavars() -> None:
    """Typer ≥ 0.2x shows ``<bool>`` after every flag in ``--help``, as if ``--json`` took a value; show none."""
    option = getattr(getattr(typer, "core", None), "TyperOption", None)
    shown = getattr(option, "display_type_rich", None)
    if option is None or shown is None or getattr(shown, "_hotmess", False):
        return

    def display_type_rich(self: Any, ctx: Any) -> Any:
        return None if getattr(self, "is_flag", False) else shown(self, ctx)

    display_type_rich._hotmess = True  # type: ignore[attr-defined]
    option.display_type_rich = display_type_rich


_no_flag_metavars()

app = typer.Typer(
    name="hotmess",
    help="Measure how AI models fail: bias, variance and incoherence of repeated samples.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hotmess {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """hotmess: bias-variance decompositions of model error."""
    # --debug is read by main() before the app runs; declared here so that it shows in --help.


for _name in SUBCOMMANDS:
    importlib.import_module(f"hotmess.cli.{_name}").register(app)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hotmess`` console script; returns the exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or os.environ.get("HOTMESS_DEBUG") == "1"
    try:
        # Without standalone mode click returns the code of a `typer.Exit(code)` instead of exiting with it.
        rc = app(args=args, prog_name="hotmess", standalone_mode=False)
    except Interrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return err.exit_code
    except HotmessError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:  # pragma: no cover - click's own exits
        return int(exc.code or 0) if isinstance(exc.code, int) else 1
    except Exception as exc:  # usage errors (missing option, bad value, unknown command) and anything unexpected
        if isinstance(exc, _usage_errors()):
            message = _usage_message(exc)
            if message:  # empty for `hotmess` / `hotmess import` alone, whose help is already printed
                print(f"error: {message}", file=sys.stderr)
            return int(getattr(exc, "exit_code", 2))
        if isinstance(exc, _abort_errors()):  # click turns a Ctrl-C outside our own handlers into Abort
            print(INTERRUPTED, file=sys.stderr)
            return 130
        if debug:
            raise
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback and "
            "please report it)",
            file=sys.stderr,
        )
        return 1
    if rc == 130:  # typer turns a Ctrl-C inside a command into Exit(130), silently
        print(INTERRUPTED, file=sys.stderr)
    return rc if isinstance(rc, int) else 0


def _usage_errors() -> tuple[type[BaseException], ...]:
    """Click's usage errors: typer ≥ 0.2x vendors click (its errors derive from ``typer.TyperException``)."""
    kinds = [k for k in (getattr(typer, "TyperException", None), _click_attr("ClickException")) if k]
    return tuple(kinds)


def _abort_errors() -> tuple[type[BaseException], ...]:
    return tuple(k for k in (typer.Abort, _click_attr("Abort")) if k)


def _click_attr(name: str) -> type[BaseException] | None:
    try:
        import click
    except ImportError:  # typer ≥ 0.2x does not need click
        return None
    kind: type[BaseException] | None = getattr(click.exceptions, name, None)
    return kind


def _usage_message(exc: Exception) -> str:
    """One line: click's message plus where to look (click's own ``show()`` prints usage over several lines)."""
    fmt = getattr(exc, "format_message", None)
    message = " ".join(str(fmt() if callable(fmt) else exc).split())
    if not message:
        return ""
    ctx = getattr(exc, "ctx", None)
    command = getattr(ctx, "command_path", None) or "hotmess"
    return f"{message} (see `{command} --help`)"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
