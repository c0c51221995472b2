"""The SQLAlchemy 2 dialect: ``create_engine("scratchbird://user:pw@host:port/db?sslmode=...")``.

The URL is the driver's own DSN (README, "DSN reference"): every query option goes to
``scratchbird.connect`` unchanged. ``scratchbird+async://`` (``asyncio_dialect``) is this dialect
over the driver's asyncio API.

Result shapes differ from what SQLAlchemy expects of a PostgreSQL-like server (REFERENCE 12.A.3,
8.4), and are being changed in the driver; :class:`DialectCursor` makes the dialect independent
of either state:

* DDL answers with a catalog row and a literal INSERT with an ``accepted_rows`` status row: the
  dialect shows SQLAlchemy no result for them;
* a SELECT that matches nothing may come without a row description: the dialect describes the
  result from the compiled statement's columns, with no rows.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Iterator, List, Optional, Sequence, Tuple, cast

from sqlalchemy.engine import default

from scratchbird.sqlalchemy import types as sb_types
from scratchbird.sqlalchemy.compiler import (SBCompiler, SBDDLCompiler, SBIdentifierPreparer,
                                             SBTypeCompiler)
from scratchbird.sqlalchemy.reflection import InformationSchemaReflection

if TYPE_CHECKING:
    from types import ModuleType

    from sqlalchemy.engine.base import Connection as SAConnection
    from sqlalchemy.engine.interfaces import (ConnectArgsType, DBAPIConnection, DBAPICursor,
                                              DBAPIModule, IsolationLevel)
    from sqlalchemy.engine.url import URL

__all__ = ["ScratchbirdDialect", "DialectCursor"]

_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(\w+)", re.S)
_DDL_WORDS = frozenset({"CREATE", "DROP", "ALTER", "COMMENT", "TRUNCATE"})
_SERVER_REPORT = ("accepted_rows", "inserted_rows", "rejected_rows")   # REFERENCE 12.A.3
# Level names SQLAlchemy uses; the server runs read-committed (REFERENCE 12.A.9).
DEFAULT_ISOLATION: "IsolationLevel" = "READ COMMITTED"
ISOLATION_LEVELS: Tuple["IsolationLevel", ...] = (
    "AUTOCOMMIT", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")
# a cursor.description: 7-item entries (PEP 249)
_Description = Tuple[Tuple[Any, ...], ...]


def _first_word(sql: str) -> str:
    m = _FIRST_WORD.match(sql)
    return m.group(1).upper() if m else ""


class DialectCursor:
    """The driver's cursor as SQLAlchemy sees it: server reports hidden, empty SELECTs
    described. Everything else goes straight to the driver's cursor."""

    __slots__ = ("_cursor", "_context", "_statement", "_synthetic")

    def __init__(self, cursor: Any,
                 context: Optional[default.DefaultExecutionContext]) -> None:
        self._cursor = cursor     # the driver's Cursor, or the asyncio dialect's adapter
        self._context = context
        self._statement = ""
        self._synthetic: Optional[_Description] = None

    # -- executing
    def execute(self, operation: str, parameters: Any = None) -> "DialectCursor":
        self._statement, self._synthetic = operation, None
        self._cursor.execute(operation, parameters)
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> "DialectCursor":
        self._statement, self._synthetic = operation, None
        self._cursor.executemany(operation, seq_of_parameters)
        return self

    # -- what came back
    @property
    def description(self) -> Optional[_Description]:
        if self._synthetic is not None:
            return self._synthetic
        cursor = self._cursor
        desc = cursor.description
        if desc is not None:
            if self._is_server_report(desc):
                return None
            return cast(_Description, desc)
        synthetic = self._describe_empty()
        if synthetic is not None:
            self._synthetic = synthetic
        return synthetic

    def _is_server_report(self, desc: _Description) -> bool:
        word = _first_word(self._statement)
        if word in _DDL_WORDS:
            return True
        tag = (self._cursor.statusmessage or "").upper()
        names = tuple(d[0] for d in desc)
        return names == _SERVER_REPORT and (tag.startswith("INSERT") or tag.startswith("COPY"))

    def _describe_empty(self) -> Optional[_Description]:
        """A row-returning statement that sent no ROW_DESCRIPTION (0 rows, REFERENCE 8.4)."""
        if getattr(self._cursor, "rowcount", -1) not in (0, -1):
            return None
        compiled = self._context.compiled if self._context is not None else None
        columns = getattr(compiled, "_result_columns", None) if compiled is not None else None
        if columns:
            return tuple((entry[0], None, None, None, None, None, None) for entry in columns)
        if _first_word(self._statement) in ("SELECT", "WITH", "VALUES", "SHOW", "TABLE"):
            return ()   # a text query: no names to give, and no rows
        return None

    def _no_rows(self) -> bool:
        # SQLAlchemy's buffered strategy of stream_results prefetches before it looks at
        # the description: a statement without rows then reads as an empty result
        description = self.description   # may set _synthetic
        return description is None or self._synthetic is not None

    def fetchone(self) -> Optional[Tuple[Any, ...]]:
        return None if self._no_rows() else cast(Optional[Tuple[Any, ...]],
                                                 self._cursor.fetchone())

    def fetchmany(self, size: Optional[int] = None) -> List[Tuple[Any, ...]]:
        if self._no_rows():
            return []
        rows = self._cursor.fetchmany(size) if size is not None else self._cursor.fetchmany()
        return cast(List[Tuple[Any, ...]], rows)

    def fetchall(self) -> List[Tuple[Any, ...]]:
        return [] if self._no_rows() else cast(List[Tuple[Any, ...]], self._cursor.fetchall())

    def __iter__(self) -> Iterator[Tuple[Any, ...]]:
        return iter(self.fetchone, None)

    @property
    def rowcount(self) -> int:
        return cast(int, self._cursor.rowcount)

    @property
    def lastrowid(self) -> Any:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return cast(int, self._cursor.arraysize)

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def nextset(self) -> Optional[bool]:
        self._synthetic = None
        return cast(Optional[bool], self._cursor.nextset())

    def setinputsizes(self, *args: Any) -> None:
        pass

    def setoutputsize(self, *args: Any) -> None:
        pass

    def close(self) -> None:
        self._cursor.close()

    def __getattr__(self, name: str) -> Any:   # cursor.columns, statusmessage, itersize, ...
        return getattr(self._cursor, name)


class ScratchbirdExecutionContext(default.DefaultExecutionContext):
    def create_default_cursor(self) -> "DBAPICursor":
        return cast("DBAPICursor", DialectCursor(self._dbapi_connection.cursor(), self))

    def create_server_side_cursor(self) -> "DBAPICursor":
        # stream_results: the driver's streaming cursor reads itersize rows at a time
        cursor: Any = self._dbapi_connection.cursor(stream=True)
        size = self.execution_options.get("max_row_buffer")
        if size:
            cursor.itersize = int(size)
        return cast("DBAPICursor", DialectCursor(cursor, self))


class ScratchbirdDialect(InformationSchemaReflection, default.DefaultDialect):
    """SQLAlchemy dialect over the scratchbird DB-API driver."""

    name = "scratchbird"
    driver = "scratchbird"
    supports_statement_cache = True

    default_paramstyle = "named"
    supports_native_boolean = True
    supports_native_decimal = True
    supports_native_uuid = True
    supports_native_enum = False       # no CREATE TYPE ... AS ENUM on today's server
    supports_sequences = False         # sequences stay internal to autoincrement columns
    postfetch_lastrowid = False
    insert_returning = True            # DuckDB (the dev server) runs INSERT ... RETURNING
    update_returning = True
    delete_returning = True
    use_insertmanyvalues = True
    use_insertmanyvalues_wo_returning = False   # plain executemany: the driver's fast path
    supports_multivalues_insert = True
    supports_default_values = True
    supports_default_metavalue = True
    supports_empty_insert = False
    supports_server_side_cursors = True
    supports_alter = True
    supports_comments = False
    supports_identity_columns = False
    supports_virtual_generated_columns = False
    supports_smallserial = False
    returns_native_bytes = True
    max_identifier_length = 63
    requires_name_normalize = False

    # attributes the PostgreSQL compilers read
    _backslash_escapes = False
    _supports_create_index_concurrently = False
    _supports_drop_index_concurrently = False
    _supports_jsonb_subscripting = False

    colspecs = sb_types.colspecs
    ischema_names = sb_types.ischema_names
    statement_compiler = SBCompiler
    ddl_compiler = SBDDLCompiler
    type_compiler_cls = SBTypeCompiler
    preparer = SBIdentifierPreparer
    execution_ctx_cls = ScratchbirdExecutionContext

    def __init__(self, json_serializer: Optional[Any] = None,
                 json_deserializer: Optional[Any] = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._json_serializer = json_serializer
        self._json_deserializer = json_deserializer

    @classmethod
    def import_dbapi(cls) -> "DBAPIModule":
        import scratchbird
        return cast("DBAPIModule", scratchbird)

    def create_connect_args(self, url: "URL") -> "ConnectArgsType":
        """The URL is the driver's DSN: options pass through to ``scratchbird.connect``."""
        dsn = url.set(drivername="scratchbird").render_as_string(hide_password=False)
        return [dsn], {}

    def _get_server_version_info(self, connection: "SAConnection") -> Tuple[int, ...]:
        dbapi_conn = connection.connection.dbapi_connection
        assert dbapi_conn is not None   # called on a live connection, at first connect
        version = dbapi_conn.info.get("protocol_version", "1.1")
        return tuple(int(p) for p in str(version).split(".") if p.isdigit())

    def do_ping(self, dbapi_connection: "DBAPIConnection") -> bool:
        dbapi_connection.ping()
        return True

    def is_disconnect(self, e: "DBAPIModule.Error", connection: Any,
                      cursor: Optional["DBAPICursor"]) -> bool:
        dbapi = self.loaded_dbapi
        if isinstance(e, dbapi.OperationalError):
            return True
        if isinstance(e, dbapi.InterfaceError):
            return "closed" in str(e)
        return False

    # ------------------------------------------------------------ transactions

    def get_isolation_level_values(self, dbapi_conn: "DBAPIConnection") -> Sequence["IsolationLevel"]:
        return ISOLATION_LEVELS

    def get_default_isolation_level(self, dbapi_conn: "DBAPIConnection") -> "IsolationLevel":
        return self._driver_isolation(dbapi_conn) or DEFAULT_ISOLATION

    def detect_autocommit_setting(self, dbapi_conn: "DBAPIConnection") -> bool:
        return bool(dbapi_conn.autocommit)

    @staticmethod
    def _driver_isolation(dbapi_conn: "DBAPIConnection") -> Optional["IsolationLevel"]:
        """``conn.isolation_level`` of the driver, where the driver has it."""
        level = getattr(dbapi_conn, "isolation_level", None)
        if level is None:
            return None
        # the driver's names are SQLAlchemy's, spelled with "_" (REPEATABLE_READ)
        return cast("IsolationLevel",
                    str(getattr(level, "name", level)).replace("_", " ").upper())

    def get_isolation_level(self, dbapi_conn: "DBAPIConnection") -> "IsolationLevel":
        if dbapi_conn.autocommit:
            return "AUTOCOMMIT"
        return self._driver_isolation(dbapi_conn) or DEFAULT_ISOLATION

    def set_isolation_level(self, dbapi_conn: "DBAPIConnection", level: "IsolationLevel") -> None:
        if level == "AUTOCOMMIT":
            dbapi_conn.autocommit = True
            return
        dbapi_conn.autocommit = False
        if hasattr(type(dbapi_conn), "isolation_level"):
            dbapi_conn.isolation_level = level
        elif level != DEFAULT_ISOLATION:
            raise self.loaded_dbapi.NotSupportedError(
                f"isolation level {level!r}: this driver version runs every transaction "
                f"{DEFAULT_ISOLATION} (it has no Connection.isolation_level)")

    def get_readonly(self, dbapi_conn: "DBAPIConnection") -> bool:
        return bool(getattr(dbapi_conn, "read_only", False))

    def set_readonly(self, dbapi_conn: "DBAPIConnection", value: bool) -> None:
        if not hasattr(type(dbapi_conn), "read_only"):
            raise self.loaded_dbapi.NotSupportedError(
                "read-only transactions need Connection.read_only, which this driver version lacks")
        dbapi_conn.read_only = value


dialect = ScratchbirdDialect
