"""Compiled twins of scratchbird._pure, built from ext/ by setup.py."""
