"""``python -m scratchbird``: the command line (scratchbird.cli)."""
import sys

from scratchbird.cli._run import run

sys.exit(run())
