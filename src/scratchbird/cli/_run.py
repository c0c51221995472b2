"""Entry point: one clear line and a non-zero exit for every failure; the traceback only
with ``--debug``."""
from __future__ import annotations

import sys
from typing import List, Optional

__all__ = ["run"]


def run(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        import click
        from ._commands import cli
    except ImportError as exc:
        print(f"error: the scratchbird command needs click and rich ({exc}): "
              "pip install 'scratchbird[cli]'", file=sys.stderr)
        return 2
    try:
        result = cli.main(args=argv, prog_name="scratchbird", standalone_mode=False)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    except click.ClickException as exc:
        if debug:
            raise
        print(f"error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the command's contract: one line per failure
        if debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"error: {message}", file=sys.stderr)
        return 1
