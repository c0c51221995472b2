"""The floor: ``marshal.loads`` of the very rows a fetch returns. CPython builds the
same tuples, ints and strs in C with nothing to parse but its own format, so no driver
building these objects can use much less CPU."""
from __future__ import annotations

import marshal
from pathlib import Path
from typing import Optional

from . import Contender


class MarshalFloor(Contender):

    def __init__(self, target: dict, **options) -> None:
        super().__init__(target, **options)
        self.blob = b""

    def info(self) -> dict:
        return {"marshal_version": marshal.version}

    def prepare(self, scenario, data_dir: Optional[str]) -> None:
        path = Path(data_dir or ".") / f"floor_{scenario.sid}.marshal"
        self.blob = path.read_bytes()

    def fetch(self, sql: str) -> list:
        return marshal.loads(self.blob)
