"""SQL, DDL and type compilers of the SQLAlchemy dialect.

The dev server runs DuckDB, whose SQL is close to PostgreSQL's, so the compilers start from
SQLAlchemy's PostgreSQL ones and change only what the two servers need (docs/protocol.md,
"SQLAlchemy dialect"):

* autoincrement primary keys: DuckDB has neither SERIAL nor identity columns, and today's server
  refuses ``GENERATED ... IDENTITY`` (REFERENCE 12.B, SQL dialect facts), so each such column
  gets its own sequence, created before and dropped after its table;
* ``TIMESTAMPTZ`` rather than ``TIMESTAMP WITH TIME ZONE`` (today's server accepts only the
  short form), ``BLOB`` for LargeBinary, ``DOUBLE PRECISION`` for an unsized Float;
* ``CREATE TABLE IF NOT EXISTS`` is never emitted (today's server refuses it);
* no ``FOR UPDATE``: neither server has row locks (DuckDB refuses the clause).
"""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import schema, sql
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql.base import (PGCompiler, PGDDLCompiler,
                                                 PGIdentifierPreparer, PGTypeCompiler)

__all__ = ["SBCompiler", "SBDDLCompiler", "SBTypeCompiler", "SBIdentifierPreparer",
           "autoincrement_sequence"]

# DECIMAL with no precision would be DuckDB's DECIMAL(18,3), which rounds to 3 places.
UNSIZED_NUMERIC = "DECIMAL(38, 10)"


def autoincrement_sequence(table: schema.Table) -> "str | None":
    """The name of the sequence behind ``table``'s autoincrement column, or None."""
    column = table._autoincrement_column
    if column is None:
        return None
    if column.server_default is not None and column.server_default is not column.identity:
        return None
    default = column.default
    if default is not None and not (isinstance(default, schema.Sequence) and default.optional):
        return None   # an explicit default or sequence of the application's
    # an Identity() becomes the same sequence: neither server has identity columns
    return f"{table.name}_{column.name}_seq"


# DuckDB's reserved, type-function and column-name keywords (duckdb_keywords()): quoted as
# identifiers, e.g. a column named "at" or "time".
DUCKDB_KEYWORDS = frozenset({
    "all", "analyse", "analyze", "and", "anti", "any", "array", "as", "asc", "asof",
    "asymmetric", "at", "authorization", "between", "bigint", "binary", "bit", "boolean",
    "both", "by", "case", "cast", "char", "character", "check", "coalesce", "collate",
    "collation", "column", "columns", "concurrently", "constraint", "create", "cross", "dec",
    "decimal", "default", "deferrable", "desc", "describe", "distinct", "do", "else", "end",
    "except", "exists", "extract", "false", "fetch", "float", "for", "foreign", "freeze",
    "from", "full", "generated", "glob", "group", "grouping", "grouping_id", "having", "ilike",
    "in", "initially", "inner", "inout", "int", "integer", "intersect", "interval", "into",
    "is", "isnull", "join", "lambda", "lateral", "leading", "left", "like", "limit", "map",
    "national", "natural", "nchar", "none", "not", "notnull", "null", "nullif", "numeric",
    "offset", "on", "only", "or", "order", "out", "outer", "overlaps", "overlay", "pivot",
    "pivot_longer", "pivot_wider", "placing", "position", "positional", "precision", "primary",
    "qualify", "real", "references", "returning", "right", "row", "select", "semi", "setof",
    "show", "similar", "smallint", "some", "struct", "substring", "summarize", "symmetric",
    "table", "tablesample", "then", "time", "timestamp", "to", "trailing", "treat", "trim",
    "true", "try_cast", "tuple", "union", "unique", "unpack", "unpivot", "using", "values",
    "varchar", "variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
    "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces", "xmlparse", "xmlpi",
    "xmlroot", "xmlserialize", "xmltable",
})


class SBIdentifierPreparer(PGIdentifierPreparer):
    reserved_words = PGIdentifierPreparer.reserved_words | DUCKDB_KEYWORDS


# The driver's named placeholders are :[A-Za-z_][A-Za-z0-9_]* (README, Parameters): every
# other character of a bind name is escaped; SQLAlchemy maps the names back.
_BIND_ESCAPES = {ch: "_" for ch in "!\"#$%&'()*+,-./:;<=>?@[\\]^`{|}~ "}
_BIND_ESCAPES.update({"%": "P", "(": "A", ")": "Z", ":": "C", "/": "S", "?": "Q", "-": "M"})


class SBCompiler(PGCompiler):
    bindname_escape_characters = _BIND_ESCAPES

    def bindparam_string(self, name: str, escaped_from: Optional[str] = None,  # type: ignore[override]  # the base's other keywords pass through **kw
                         **kw: Any) -> str:
        if not escaped_from and name[:1].isdigit():
            # a placeholder name cannot start with a digit: escape it as SQLAlchemy
            # escapes other characters, so the parameter maps back
            escaped_from = name
            name = "p" + self._bind_translate_re.sub(
                lambda m: self._bind_translate_chars[m.group(0)], name)
        return super().bindparam_string(name, escaped_from=escaped_from, **kw)

    def visit_json_path_getitem_op_binary(self, binary: Any, operator: Any,
                                          _cast_applied: bool = False, **kw: Any) -> str:
        # DuckDB takes a JSONPath string after -> / ->> (PostgreSQL's #> / #>> do not exist)
        if not _cast_applied and binary.type._type_affinity is not sqltypes.JSON:
            kw["_cast_applied"] = True
            return self.process(sql.cast(binary, binary.type), **kw)
        kw["eager_grouping"] = True
        text: str = self._generate_generic_binary(
            binary, " -> " if not _cast_applied else " ->> ", **kw)
        return text

    def for_update_clause(self, select: Any, **kw: Any) -> str:
        return ""


class SBDDLCompiler(PGDDLCompiler):
    def _sequence_name(self, table: schema.Table) -> "str | None":
        name = autoincrement_sequence(table)
        if name is None:
            return None
        if table.schema:
            return f"{self.preparer.quote_schema(table.schema)}.{self.preparer.quote(name)}"
        return self.preparer.quote(name)

    def get_column_specification(self, column: Any, **kwargs: Any) -> str:
        table = column.table
        seq = None
        if column is table._autoincrement_column and column.primary_key:
            seq = self._sequence_name(table)
        if seq is None:
            spec: str = super().get_column_specification(  # type: ignore[no-untyped-call]  # SQLAlchemy's PG compiler is unannotated
                column, **kwargs)
            return spec
        colspec = self.preparer.format_column(column) + " " + \
            self.dialect.type_compiler_instance.process(column.type, type_expression=column)
        literal = seq.replace("'", "''")
        colspec += f" DEFAULT nextval('{literal}')"
        if not column.nullable:
            colspec += " NOT NULL"
        return colspec

    def visit_create_table(self, create: Any, **kw: Any) -> str:
        text: str = super().visit_create_table(create, **kw)  # type: ignore[no-untyped-call]  # SQLAlchemy's DDL compiler is unannotated
        seq = self._sequence_name(create.element)
        if seq is not None:
            # one QUERY, two statements: the server splits them (REFERENCE 4.1)
            text = f"CREATE SEQUENCE IF NOT EXISTS {seq};\n" + text
        return text

    def visit_drop_table(self, drop: Any, **kw: Any) -> str:
        text: str = super().visit_drop_table(drop, **kw)  # type: ignore[no-untyped-call]  # SQLAlchemy's DDL compiler is unannotated
        seq = self._sequence_name(drop.element)
        if seq is not None:
            text += f";\nDROP SEQUENCE IF EXISTS {seq}"
        return text


class SBTypeCompiler(PGTypeCompiler):
    def visit_FLOAT(self, type_: Any, **kw: Any) -> str:
        if type_.precision is not None and type_.precision <= 24:
            return "REAL"
        return "DOUBLE PRECISION"

    def visit_float(self, type_: Any, **kw: Any) -> str:
        return self.visit_FLOAT(type_, **kw)

    def visit_double(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE PRECISION"

    def visit_DOUBLE(self, type_: Any, **kw: Any) -> str:
        return "DOUBLE PRECISION"

    def visit_NUMERIC(self, type_: Any, **kw: Any) -> str:
        if type_.precision is None:
            return UNSIZED_NUMERIC
        text: str = super().visit_NUMERIC(type_, **kw)
        return text

    def visit_DECIMAL(self, type_: Any, **kw: Any) -> str:
        return self.visit_NUMERIC(type_, **kw)

    def visit_numeric(self, type_: Any, **kw: Any) -> str:
        return self.visit_NUMERIC(type_, **kw)

    def visit_TIMESTAMP(self, type_: Any, **kw: Any) -> str:
        return "TIMESTAMPTZ" if type_.timezone else "TIMESTAMP"

    def visit_DATETIME(self, type_: Any, **kw: Any) -> str:
        return self.visit_TIMESTAMP(type_, **kw)

    def visit_TIME(self, type_: Any, **kw: Any) -> str:
        return "TIMETZ" if type_.timezone else "TIME"

    def visit_large_binary(self, type_: Any, **kw: Any) -> str:
        return "BLOB"

    def visit_BYTEA(self, type_: Any, **kw: Any) -> str:
        return "BLOB"

    def visit_JSONB(self, type_: Any, **kw: Any) -> str:
        return "JSON"

    def visit_INTERVAL(self, type_: Any, **kw: Any) -> str:
        return "INTERVAL"

    def visit_TEXT(self, type_: Any, **kw: Any) -> str:
        return "TEXT"

    def visit_enum(self, type_: Any, **kw: Any) -> str:
        # no native ENUM type on today's server: a VARCHAR sized for the longest label
        return self.visit_VARCHAR(sqltypes.VARCHAR(length=type_.length), **kw)
