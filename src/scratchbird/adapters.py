"""Type adapters: how a column type is loaded into Python, and how a Python type is
dumped into SQL. Adaptation as data (as psycopg's loaders and dumpers): a registry
copied from the global one into each connection, and from the connection into each
cursor, so a change is scoped to where it was made.

    scratchbird.adapters.register_loader("numeric", float)          # everywhere
    conn.adapters.register_loader(25, str.upper)                    # one connection
    cur.adapters.register_dumper(MyId, lambda v: SqlLiteral(str(v.n)))  # one cursor

A text loader receives the value's text (today's server sends text), a binary loader
the value's bytes; it returns the Python value. NULLs never reach it. A dumper receives the Python value and returns either
another Python value the driver knows how to send, or an ``SqlLiteral``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Optional, Tuple, Union

from scratchbird._constants import OID_FOR_TYPEREF, TYPEREF_FOR_OID
from scratchbird.errors import ProgrammingError

if TYPE_CHECKING:
    from scratchbird._server_messages import Column

__all__ = ["AdaptersMap", "adapters", "TYPE_NAMES"]

TypeKey = Union[int, str, Tuple[int, int]]

# Names for the type codes (PostgreSQL-numbered OIDs, REFERENCE 8) users may write.
TYPE_NAMES: Dict[str, int] = {
    "bool": 16, "boolean": 16, "bytea": 17, "int8": 20, "bigint": 20, "int2": 21,
    "smallint": 21, "int4": 23, "integer": 23, "text": 25, "json": 114, "xml": 142,
    "float4": 700, "real": 700, "float8": 701, "double precision": 701, "money": 790,
    "char": 1042, "bpchar": 1042, "varchar": 1043, "date": 1082, "time": 1083,
    "timestamp": 1114, "timestamptz": 1184, "interval": 1186, "timetz": 1266,
    "numeric": 1700, "decimal": 1700, "uuid": 2950, "jsonb": 3802,
}


def _type_code(key: TypeKey) -> Union[int, Tuple[int, int]]:
    if isinstance(key, bool):
        raise ProgrammingError(f"not a type: {key!r}")
    if isinstance(key, int):
        return key
    if isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, int) for k in key):
        return key
    if isinstance(key, str):
        code = TYPE_NAMES.get(key.strip().lower())
        if code is None:
            raise ProgrammingError(f"unknown type name {key!r} (known: {', '.join(sorted(TYPE_NAMES))})")
        return code
    raise ProgrammingError(f"a type is an OID, a (family, code) pair or a type name, not {key!r}")


class AdaptersMap:
    """Loaders by type and dumpers by Python class; copied, never shared, downstream."""

    __slots__ = ("_loaders", "_dumpers")

    def __init__(self, template: Optional["AdaptersMap"] = None) -> None:
        self._loaders: Dict[Any, Callable[[str], Any]] = dict(template._loaders) if template else {}
        self._dumpers: Dict[type, Callable[[Any], Any]] = dict(template._dumpers) if template else {}

    def __repr__(self) -> str:
        return f"<AdaptersMap loaders={len(self._loaders)} dumpers={len(self._dumpers)}>"

    # ------------------------------------------------------------ loaders

    def register_loader(self, type_key: TypeKey, loader: Optional[Callable[[Any], Any]], *,
                        format: str = "text") -> None:
        """Load values of ``type_key`` (OID, (family, code) or name) with ``loader``;
        None removes the registration (back to the built-in decoding).

        ``format="text"`` loaders receive the value's text and apply to text columns
        (today's server); ``format="binary"`` loaders receive the value's bytes and apply
        to binary columns (docs/protocol.md 1; ``connect(binary_transfer=False)`` keeps a
        session on text)."""
        if format not in ("text", "binary"):
            raise ProgrammingError("a loader's format is 'text' or 'binary'")
        code = _type_code(type_key)
        # A type registered by OID also answers for its (family, code), and back.
        alias = TYPEREF_FOR_OID.get(code) if isinstance(code, int) else OID_FOR_TYPEREF.get(code)
        key, alias_key = (code, format), (alias, format)
        if loader is None:
            removed = self._loaders.pop(key, None)
            if alias is not None and removed is not None and self._loaders.get(alias_key) is removed:
                del self._loaders[alias_key]
            return
        if not callable(loader):
            raise ProgrammingError("a loader must be callable")
        self._loaders[key] = loader
        if alias is not None and alias_key not in self._loaders:
            self._loaders[alias_key] = loader

    @property
    def has_loaders(self) -> bool:
        return bool(self._loaders)

    def loader_for(self, column: Column) -> Optional[Callable[[Any], Any]]:
        if not self._loaders:
            return None
        fmt = "binary" if column.format == 1 else "text"
        loader = self._loaders.get((column.type_oid, fmt))
        if loader is None and column.typeref is not None:
            ref = column.typeref
            loader = self._loaders.get(((ref.family, ref.code), fmt))
        return loader

    def loaders_for(self, columns: Iterable[Column]
                    ) -> Optional[Tuple[Optional[Callable[[Any], Any]], ...]]:
        """One loader (or None) per column; None when no column has one (the fast path)."""
        if not self._loaders:
            return None
        found = tuple(self.loader_for(col) for col in columns)
        return found if any(f is not None for f in found) else None

    # ------------------------------------------------------------ dumpers

    def register_dumper(self, cls: type, dumper: Optional[Callable[[Any], Any]]) -> None:
        """Send instances of ``cls`` (and its subclasses) through ``dumper``; None removes."""
        if not isinstance(cls, type):
            raise ProgrammingError("register_dumper takes a class")
        if dumper is None:
            self._dumpers.pop(cls, None)
        elif not callable(dumper):
            raise ProgrammingError("a dumper must be callable")
        else:
            self._dumpers[cls] = dumper

    def dumper_for(self, value: Any) -> Optional[Callable[[Any], Any]]:
        dumpers = self._dumpers
        dumper = dumpers.get(type(value))
        if dumper is None:
            for cls in type(value).__mro__[1:]:
                dumper = dumpers.get(cls)
                if dumper is not None:
                    break
        return dumper

    def dump_params(self, params: Any) -> Any:
        """``params`` with every value that has a dumper replaced by what it returns."""
        if not self._dumpers or params is None:
            return params

        def dump(value: Any) -> Any:
            dumper = self.dumper_for(value)
            return value if dumper is None else dumper(value)
        if isinstance(params, dict):
            return {key: dump(value) for key, value in params.items()}
        if isinstance(params, (list, tuple)):
            return type(params)(dump(value) for value in params) if isinstance(params, list) \
                else tuple(dump(value) for value in params)
        if hasattr(params, "keys"):
            return {key: dump(params[key]) for key in params.keys()}
        return params


adapters = AdaptersMap()
"""The global registry: connections start with a copy of it."""
