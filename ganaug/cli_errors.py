"""How the CLI ends on an error: one line naming what to fix, never a traceback (``--debug`` shows it)."""

from __future__ import annotations

import os

import click
import typer
from typer.core import TyperGroup

from ganaug.errors import USER_ERRORS


def error_line(err: BaseException) -> tuple[int, str]:
    """An exception as (exit code, one line): 2 for what the user can fix (config, data, paths), 1 otherwise."""
    if isinstance(err, USER_ERRORS):
        return 2, f"error: {err}"
    if isinstance(err, PermissionError):
        return 2, f"error: permission denied: {err.filename}: choose a path you can write to (e.g. --out DIR)"
    if isinstance(err, (FileExistsError, NotADirectoryError, IsADirectoryError)):
        what = "is a folder" if isinstance(err, IsADirectoryError) else "is a file, or lies under a file"
        return 2, f"error: {err.filename}: {what}; expected a folder path (e.g. --out DIR)"
    if isinstance(err, OSError) and err.filename:
        return 2, f"error: {err.filename}: {err.strerror}"
    if type(err).__name__ in ("GANDivergedError", "TrainingDivergedError"):
        return 1, f"error: training diverged: {err}"
    return 1, f"error: {type(err).__name__}: {err} (run with --debug for the traceback)"


class OneLineErrors(TyperGroup):
    """Every failure ends in one line on stderr, never a traceback (``--debug`` or GANAUG_DEBUG=1 shows it);
    Ctrl-C says how to resume."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, typer.Exit):  # --help, usage
            raise
        except KeyboardInterrupt:
            typer.secho("interrupted: re-run the same command to resume from the last checkpoint", err=True)
            raise typer.Exit(130) from None
        except Exception as err:
            if ctx.params.get("debug") or os.environ.get("GANAUG_DEBUG") == "1":
                raise
            code, line = error_line(err)
            typer.secho(line, fg=typer.colors.RED, err=True)
            raise typer.Exit(code) from None
