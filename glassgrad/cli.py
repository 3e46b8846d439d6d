"""The ``glassgrad`` command line: one Typer app; each area adds its commands from
:mod:`glassgrad.commands`. Bad arguments end with a one-line error and exit code 2.

Command modules import their heavy dependencies inside the command functions, so
``glassgrad --help`` stays fast. An unexpected failure (RuntimeError, IndexError, …) is also
one line, exit code 1, and so is running out of memory (commands check the sizes they are
asked for before allocating; this is the last resort); ``GLASSGRAD_DEBUG=1`` shows its traceback.
Ctrl-C is one line too, exit code 130 (files are written atomically, so none is left half-written).
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from .commands import COMMAND_MODULES, CommandError, CommandFailed, NumberRefused, in_option_words, number_refusal
from .version import __version__

app = typer.Typer(
    name="glassgrad",
    help="Backpropagation you can see through: train networks and inspect every number.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(asked: bool) -> None:
    """``glassgrad --version``: print the installed version and stop before any command runs."""
    if asked:
        typer.echo(f"glassgrad {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: bool = typer.Option(False, "--version", help="Print glassgrad's version and exit.", is_eager=True,
                                 callback=_print_version),
) -> None:
    """Backpropagation you can see through: train networks and inspect every number."""


def _register_commands() -> None:
    """Add every area's commands to ``app``, once per process (``main`` may run many times in tests)."""
    from importlib import import_module

    if app.registered_commands or app.registered_groups:
        return
    for name in COMMAND_MODULES:
        import_module(f"glassgrad.commands.{name}").register(app)


def _no_value_shown_by_flags(command: Any) -> None:
    """A flag (``--help``, ``--version``, a :func:`~glassgrad.commands.switch`) takes no value, so ``--help`` shows
    no type beside it (Typer writes ``<bool>``): on ``command`` and every command under it."""
    for param in command.get_params(command.context_class(command)):  # with the --help option Click adds
        if getattr(param, "is_flag", False):
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _no_value_shown_by_flags(sub)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 failure, 2 bad arguments)."""
    _register_commands()
    argv = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    _no_value_shown_by_flags(command)
    try:
        result = command.main(args=argv, prog_name="glassgrad", standalone_mode=False)
    except NumberRefused as error:  # the number as typed: `--lr 1e400`, not the inf it reads as
        typed = _given(argv, [error.option])
        return _one_line_error(str(error.as_typed(typed) if typed else error), 2)
    except (CommandError, ValueError, TypeError, OSError) as error:
        # OSError: a path that cannot be read or written (missing, a folder, no permission)
        return _one_line_error(str(error) or type(error).__name__, 2)
    except CommandFailed as error:
        return _one_line_error(str(error), 1)
    except (RuntimeError, IndexError, KeyError, ArithmeticError) as error:
        if os.environ.get("GLASSGRAD_DEBUG"):
            raise
        return _one_line_error(f"{error} (set GLASSGRAD_DEBUG=1 to see where)", 1)
    except MemoryError:  # a last resort: commands check sizes before allocating
        if os.environ.get("GLASSGRAD_DEBUG"):
            raise
        return _one_line_error("out of memory: the task needs more memory than this computer has; make it "
                               "smaller (fewer or narrower layers, less data)", 1)
    except Exception as error:
        # Typer's (Click's) own exceptions, matched by what they carry so that this works
        # whether Typer bundles Click or depends on it: Exit/Abort, and usage errors.
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            kind = _number_kind(getattr(error, "param", None))
            if kind is not None:  # a word or a fraction for a numeric option: what it takes, and an example
                param = error.param
                value = _given(argv, param.opts)
                return _one_line_error(str(number_refusal(param.opts[0], value, kind is int, param.default)),
                                       error.exit_code)
            if not error.format_message().strip():  # `glassgrad` alone: Typer has shown the help, which says it all
                return error.exit_code
            return _one_line_error(error.format_message(), error.exit_code)
        if type(error).__name__ == "Exit":
            return int(getattr(error, "exit_code", 0))
        if type(error).__name__ == "Abort":
            return _one_line_error("aborted", 1)
        raise
    if result == INTERRUPTED_CODE:  # Typer turns Ctrl-C into this code, silently; no command returns it itself
        return _one_line_error(INTERRUPTED, INTERRUPTED_CODE)
    return result if isinstance(result, int) else 0


INTERRUPTED_CODE = 130
"""The exit code of a command stopped by Ctrl-C (128 + SIGINT, as shells report it)."""
INTERRUPTED = ("stopped by Ctrl-C before the command finished; files are written whole or not at all, so no file "
               "was left half-written: run the command again to finish it")


def _number_kind(param: object) -> type | None:
    """``int`` or ``float`` for a numeric option of a command (whose value Typer could not read), else None."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    return annotation if annotation in (int, float) and getattr(param, "opts", None) else None


def _given(argv: list[str], opts: list[str]) -> str:
    """The value given to the option named ``opts`` in ``argv`` (``--lr true`` or ``--lr=true``), the last one."""
    value = ""
    for position, word in enumerate(argv):
        name, equals, written = word.partition("=")
        if name in opts:
            value = written if equals else (argv[position + 1] if position + 1 < len(argv) else "")
    return value


def _one_line_error(message: str, code: int) -> int:
    """Print ``message``'s first line as the error, each fix named by its option (:func:`in_option_words`)."""
    first_line = in_option_words(message.strip().splitlines()[0]) if message.strip() else "failed"
    print(f"glassgrad: error: {first_line}", file=sys.stderr)
    return code


def entry_point() -> None:
    sys.exit(main())
