"""Reflection through ``information_schema`` (the dev server's DuckDB has it).

Today's real server has no ``information_schema`` (nor ``SHOW TABLES``): REFERENCE 12.B,
"SQL dialect facts", meta queries. Against it every method here fails with the server's
NOT_FOUND error; docs/protocol.md records the gap. Indexes are not part of the SQL standard's
``information_schema``; they come from DuckDB's ``duckdb_indexes()`` when it exists and are an
empty list otherwise.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, cast

from sqlalchemy import exc
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import reflection

from scratchbird.sqlalchemy.types import ischema_names

if TYPE_CHECKING:
    from sqlalchemy.engine.base import Connection
    from sqlalchemy.engine.default import DefaultDialect
    from sqlalchemy.engine.interfaces import (ReflectedCheckConstraint, ReflectedColumn,
                                              ReflectedForeignKeyConstraint, ReflectedIndex,
                                              ReflectedPrimaryKeyConstraint,
                                              ReflectedTableComment,
                                              ReflectedUniqueConstraint)
    # the mixin is checked as the dialect it is mixed into (default_schema_name, the
    # Dialect method signatures it overrides)
    _DialectBase = DefaultDialect
else:
    _DialectBase = object

__all__ = ["InformationSchemaReflection", "parse_type"]

_SIZED = re.compile(r"^([A-Z_ ]+?)\s*\((\d+)(?:\s*,\s*(\d+))?\)$")


def parse_type(data_type: str, length: Optional[int] = None) -> sqltypes.TypeEngine[Any]:
    """``information_schema.columns.data_type`` (DuckDB spelling) as a SQLAlchemy type."""
    text = data_type.strip().upper()
    if text.endswith("[]"):
        return sqltypes.ARRAY(parse_type(text[:-2]))
    if text in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return sqltypes.TIMESTAMP(timezone=True)
    if text in ("TIME WITH TIME ZONE", "TIMETZ"):
        return sqltypes.TIME(timezone=True)
    m = _SIZED.match(text)
    if m:
        name, first, second = m.group(1), int(m.group(2)), m.group(3)
        if name in ("DECIMAL", "NUMERIC"):
            return sqltypes.NUMERIC(first, int(second) if second is not None else 0)
        if name in ("VARCHAR", "CHAR"):
            sized: sqltypes.TypeEngine[Any] = ischema_names[name](length=first)
            return sized
        text = name
    if text.startswith("ENUM("):
        return sqltypes.VARCHAR()
    cls = ischema_names.get(text)
    if cls is None:
        return sqltypes.NullType()
    if cls in (sqltypes.VARCHAR, sqltypes.CHAR) and length:
        sized_text: sqltypes.TypeEngine[Any] = cls(length=length)
        return sized_text
    plain: sqltypes.TypeEngine[Any] = cls()
    return plain


def _rows(connection: "Connection", sql: str,
          params: Optional[Dict[str, Any]] = None) -> List[Tuple[Any, ...]]:
    result = connection.exec_driver_sql(sql, params or {})
    # a SELECT that matches nothing has no row description on today's server (REFERENCE 8.4)
    rows = list(result.fetchall()) if result.returns_rows else []
    return cast(List[Tuple[Any, ...]], rows)   # Row objects: indexed and unpacked as tuples


_CATALOG = "table_catalog = current_database()"


class InformationSchemaReflection(_DialectBase):
    """Mixed into the dialect: every ``get_*`` that the Inspector calls."""

    def _schema(self, connection: "Connection", schema: Optional[str]) -> str:
        return schema or self.default_schema_name or self._get_default_schema_name(connection)

    def _get_default_schema_name(self, connection: "Connection") -> str:
        rows = _rows(connection, "SELECT current_schema()")
        return str(rows[0][0]) if rows and rows[0][0] else "main"

    @reflection.cache
    def get_schema_names(self, connection: "Connection", **kw: Any) -> List[str]:
        rows = _rows(connection, "SELECT schema_name FROM information_schema.schemata "
                                 "WHERE catalog_name = current_database() ORDER BY schema_name")
        return [r[0] for r in rows]

    def has_schema(self, connection: "Connection", schema_name: str, **kw: Any) -> bool:
        return schema_name in self.get_schema_names(connection, **kw)

    def _table_names(self, connection: "Connection", schema: Optional[str], table_type: str,
                     catalog: str = _CATALOG) -> List[str]:
        rows = _rows(connection,
                     "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                     f":schema AND table_type = :kind AND {catalog} ORDER BY table_name",
                     {"schema": self._schema(connection, schema), "kind": table_type})
        return [r[0] for r in rows]

    @reflection.cache
    def get_table_names(self, connection: "Connection", schema: Optional[str] = None,
                        **kw: Any) -> List[str]:
        return self._table_names(connection, schema, "BASE TABLE")

    @reflection.cache
    def get_temp_table_names(self, connection: "Connection", schema: Optional[str] = None,
                             **kw: Any) -> List[str]:
        if schema is not None and schema != self._schema(connection, None):
            return []   # temporary tables live in DuckDB's "temp" catalog, beside the default schema
        rows = _rows(connection, "SELECT table_name FROM information_schema.tables "
                                 "WHERE table_catalog = 'temp' ORDER BY table_name")
        return [r[0] for r in rows]

    @reflection.cache
    def get_view_names(self, connection: "Connection", schema: Optional[str] = None,
                       **kw: Any) -> List[str]:
        return self._table_names(connection, schema, "VIEW")

    @reflection.cache
    def get_view_definition(self, connection: "Connection", view_name: str,
                            schema: Optional[str] = None, **kw: Any) -> str:
        rows = _rows(connection, "SELECT view_definition FROM information_schema.views WHERE "
                                 "table_schema = :schema AND table_name = :name",
                     {"schema": self._schema(connection, schema), "name": view_name})
        if not rows:
            raise exc.NoSuchTableError(view_name)
        return str(rows[0][0])

    @reflection.cache
    def has_table(self, connection: "Connection", table_name: str, schema: Optional[str] = None,
                  **kw: Any) -> bool:
        self._ensure_has_table_connection(connection)
        rows = _rows(connection, "SELECT 1 FROM information_schema.tables WHERE table_name = :name "
                                 "AND (table_schema = :schema OR table_catalog = 'temp') "
                                 "AND table_catalog IN (current_database(), 'temp')",
                     {"schema": self._schema(connection, schema), "name": table_name})
        return bool(rows)

    def has_index(self, connection: "Connection", table_name: str, index_name: str,
                  schema: Optional[str] = None, **kw: Any) -> bool:
        if not self.has_table(connection, table_name, schema, **kw):
            return False
        return any(ix["name"] == index_name
                   for ix in self.get_indexes(connection, table_name, schema, **kw))

    def has_sequence(self, connection: "Connection", sequence_name: str,
                     schema: Optional[str] = None, **kw: Any) -> bool:
        return False

    def _require_table(self, connection: "Connection", table_name: str,
                       schema: Optional[str]) -> None:
        if not self.has_table(connection, table_name, schema):
            raise exc.NoSuchTableError(table_name)

    @reflection.cache
    def get_columns(self, connection: "Connection", table_name: str, schema: Optional[str] = None,
                    **kw: Any) -> List["ReflectedColumn"]:
        rows = _rows(connection,
                     "SELECT column_name, data_type, is_nullable, column_default, "
                     "character_maximum_length FROM information_schema.columns "
                     "WHERE table_schema = :schema AND table_name = :name "
                     "AND table_catalog IN (current_database(), 'temp') ORDER BY ordinal_position",
                     {"schema": self._schema(connection, schema), "name": table_name})
        if not rows:
            raise exc.NoSuchTableError(table_name)
        columns: List["ReflectedColumn"] = []
        for name, data_type, nullable, default, length in rows:
            autoincrement = bool(default) and str(default).startswith("nextval(")
            columns.append({
                "name": name,
                "type": parse_type(data_type, length),
                "nullable": nullable == "YES",
                "default": default,
                "autoincrement": autoincrement,
            })
        return columns

    def _constraint_columns(self, connection: "Connection", table_name: str,
                            schema: Optional[str], kind: str) -> Dict[str, List[str]]:
        rows = _rows(connection,
                     "SELECT tc.constraint_name, kcu.column_name "
                     "FROM information_schema.table_constraints tc "
                     "JOIN information_schema.key_column_usage kcu "
                     "ON kcu.constraint_name = tc.constraint_name "
                     "AND kcu.table_schema = tc.table_schema AND kcu.table_name = tc.table_name "
                     "WHERE tc.table_schema = :schema AND tc.table_name = :name "
                     "AND tc.constraint_type = :kind "
                     "ORDER BY tc.constraint_name, kcu.ordinal_position",
                     {"schema": self._schema(connection, schema), "name": table_name, "kind": kind})
        out: Dict[str, List[str]] = {}
        for cname, column in rows:
            out.setdefault(cname, []).append(column)
        return out

    @reflection.cache
    def get_pk_constraint(self, connection: "Connection", table_name: str,
                          schema: Optional[str] = None,
                          **kw: Any) -> "ReflectedPrimaryKeyConstraint":
        found = self._constraint_columns(connection, table_name, schema, "PRIMARY KEY")
        if not found:
            self._require_table(connection, table_name, schema)
            return {"constrained_columns": [], "name": None}
        name, columns = next(iter(found.items()))
        return {"constrained_columns": columns, "name": name}

    @reflection.cache
    def get_unique_constraints(self, connection: "Connection", table_name: str,
                               schema: Optional[str] = None,
                               **kw: Any) -> List["ReflectedUniqueConstraint"]:
        found = self._constraint_columns(connection, table_name, schema, "UNIQUE")
        if not found:
            self._require_table(connection, table_name, schema)
        return [{"name": name, "column_names": cols} for name, cols in sorted(found.items())]

    @reflection.cache
    def get_foreign_keys(self, connection: "Connection", table_name: str,
                         schema: Optional[str] = None,
                         **kw: Any) -> List["ReflectedForeignKeyConstraint"]:
        schema_name = self._schema(connection, schema)
        rows = _rows(connection,
                     "SELECT rc.constraint_name, kcu.column_name, ref.table_schema, "
                     "ref.table_name, ref.column_name, rc.update_rule, rc.delete_rule "
                     "FROM information_schema.referential_constraints rc "
                     "JOIN information_schema.key_column_usage kcu "
                     "ON kcu.constraint_name = rc.constraint_name "
                     "AND kcu.constraint_schema = rc.constraint_schema "
                     "JOIN information_schema.key_column_usage ref "
                     "ON ref.constraint_name = rc.unique_constraint_name "
                     "AND ref.constraint_schema = rc.unique_constraint_schema "
                     "AND ref.ordinal_position = kcu.position_in_unique_constraint "
                     "WHERE kcu.table_schema = :schema AND kcu.table_name = :name "
                     "ORDER BY rc.constraint_name, kcu.ordinal_position",
                     {"schema": schema_name, "name": table_name})
        if not rows:
            self._require_table(connection, table_name, schema)
        keys: Dict[str, "ReflectedForeignKeyConstraint"] = {}
        for cname, column, ref_schema, ref_table, ref_column, on_update, on_delete in rows:
            fk = keys.get(cname)
            if fk is None:
                options: Dict[str, Any] = {}
                if on_update and on_update != "NO ACTION":
                    options["onupdate"] = on_update
                if on_delete and on_delete != "NO ACTION":
                    options["ondelete"] = on_delete
                fk = keys[cname] = {
                    "name": cname, "constrained_columns": [],
                    "referred_schema": ref_schema if schema is not None or ref_schema != schema_name else None,
                    "referred_table": ref_table, "referred_columns": [], "options": options,
                }
            fk["constrained_columns"].append(column)
            fk["referred_columns"].append(ref_column)
        return list(keys.values())

    @reflection.cache
    def get_indexes(self, connection: "Connection", table_name: str, schema: Optional[str] = None,
                    **kw: Any) -> List["ReflectedIndex"]:
        try:
            rows = _rows(connection,
                         "SELECT index_name, is_unique, expressions FROM duckdb_indexes() "
                         "WHERE schema_name = :schema AND table_name = :name ORDER BY index_name",
                         {"schema": self._schema(connection, schema), "name": table_name})
        except exc.DBAPIError:
            return []   # not DuckDB: no index catalogue in information_schema
        if not rows:
            self._require_table(connection, table_name, schema)
        indexes: List["ReflectedIndex"] = []
        for name, unique, expressions in rows:
            if isinstance(expressions, str):
                expressions = [e.strip() for e in expressions.strip("[]").split(",") if e.strip()]
            columns = [e.strip().strip("'").strip('"') for e in expressions]
            indexes.append({"name": name, "unique": bool(unique), "column_names": columns})
        return indexes

    @reflection.cache
    def get_check_constraints(self, connection: "Connection", table_name: str,
                              schema: Optional[str] = None,
                              **kw: Any) -> List["ReflectedCheckConstraint"]:
        return []

    @reflection.cache
    def get_table_comment(self, connection: "Connection", table_name: str,
                          schema: Optional[str] = None, **kw: Any) -> "ReflectedTableComment":
        return {"text": None}

    def get_sequence_names(self, connection: "Connection", schema: Optional[str] = None,
                           **kw: Any) -> List[str]:
        return []

    def get_materialized_view_names(self, connection: "Connection", schema: Optional[str] = None,
                                    **kw: Any) -> List[str]:
        return []
