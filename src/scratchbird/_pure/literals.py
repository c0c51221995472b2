"""Client-side parameter binding: Python values as SQL literals, spliced into the SQL.

The pure-Python reference twin; the compiled twin is ``ext/literals.pyx`` (same names,
behaviour, exception classes and messages; it hands every type without a C fast path
back to ``render_literal`` here, so the rare types have exactly one definition).

Why the driver renders literals itself: the server does not bind parameters. It turns
each bound value into an SQL literal and substitutes it into the statement text anyway
(REFERENCE 5.2, 8.6, appendix D item 8), and numeric values go in unquoted, so the
client must validate them. Rendering here keeps that validation in one place and lets a
plain QUERY carry the statement.

Two facts from the reference shape the rules:

- the QUERY payload ends the SQL at the first NUL byte (REFERENCE 4.1), so a string
  holding ``\\x00`` would cut the statement short inside a quoted literal and let the
  server run whatever came before it: such strings are refused;
- strings are standard SQL strings: ``'`` is doubled and a backslash is an ordinary
  character (REFERENCE 12.B.2: ``'back\\slash'`` and ``'a\\nb'`` come back verbatim).

The placeholder scanner skips what the server's own statement splitter skips (quotes,
``--`` and nested ``/* */`` comments, ``$tag$`` dollar quotes; REFERENCE 4.1), following
PostgreSQL's lexer where the reference is silent: ``$`` continues an identifier, and
``E'...'`` strings treat a backslash as an escape. A scanner that disagreed with the
server about where a string ends could splice a value outside the quotes it meant.
"""
from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Tuple, cast

from scratchbird.errors import DataError, ProgrammingError
from scratchbird.types import Json, SqlLiteral

if TYPE_CHECKING:
    from scratchbird._typing import Buffer, Params

__all__ = ["render_literal", "quote_identifier", "merge_params"]

# PostgreSQL's NUMERIC limits: a Decimal such as Decimal("1E+999999999") is valid in
# Python but would render to a gigabyte of zeros, and nothing can store it anyway.
MAX_INTEGER_DIGITS = 131072
MAX_FRACTION_DIGITS = 16383


# ---------------------------------------------------------------------------------
# Rendering one value
# ---------------------------------------------------------------------------------

# Characters a string literal cannot carry: NUL ends the SQL text (REFERENCE 4.1) and a
# lone surrogate has no UTF-8 encoding.
_UNSENDABLE = re.compile("[\x00\ud800-\udfff]")


def _check_sendable(text: str, what: str) -> None:
    bad = _UNSENDABLE.search(text)
    if bad is None:
        return
    index = bad.start()
    if bad.group() == "\x00":
        raise DataError(
            f"{what} contains a NUL character at index {index}: the server ends the SQL "
            f"text at the first NUL (REFERENCE 4.1), so it cannot be sent")
    raise DataError(
        f"{what} contains a lone surrogate U+{ord(bad.group()):04X} at index {index}, "
        f"which cannot be encoded as UTF-8")


def _quote_text(text: str, what: str = "a string parameter") -> str:
    """``text`` as a standard SQL string: ``'`` doubled, backslashes left alone."""
    _check_sendable(text, what)
    return "'" + str.replace(text, "'", "''") + "'"


def _render_none(value: None) -> str:
    return "NULL"


def _render_bool(value: bool) -> str:
    return "TRUE" if value else "FALSE"


def _render_int(value: int) -> str:
    # int.__repr__, not str(): an IntEnum's str() is its member name.
    try:
        return int.__repr__(value)
    except ValueError as exc:  # longer than sys.get_int_max_str_digits()
        raise DataError(f"integer parameter is too large to render as text: {exc}") from None


def _render_float(value: float) -> str:
    # repr is the shortest text that reads back as the same double (1e+20, -0.0, 0.1).
    # The server stores the literal text as typed (REFERENCE 12.A.5), so -0.0 keeps its
    # sign there; engines that type 0.0 as an exact decimal (DuckDB, PostgreSQL) lose it.
    if value != value:
        return "'NaN'"
    if value == float("inf"):
        return "'Infinity'"
    if value == float("-inf"):
        return "'-Infinity'"
    return float.__repr__(value)


def _render_str(value: str) -> str:
    return _quote_text(value)


def _render_decimal(value: Decimal) -> str:
    if value.is_snan():
        raise DataError("a signalling NaN Decimal cannot be sent as a parameter")
    if value.is_nan():
        return "'NaN'"
    if value.is_infinite():
        return "'-Infinity'" if value.is_signed() else "'Infinity'"
    _, digits, exp = value.as_tuple()
    exponent = cast(int, exp)  # an int: NaN and infinities ('n', 'N', 'F') returned above
    if ((value and len(digits) + exponent > MAX_INTEGER_DIGITS)
            or -exponent > MAX_FRACTION_DIGITS):
        raise DataError(
            f"Decimal with {len(digits)} digits and exponent {exponent} is out of range: a "
            f"literal may have at most {MAX_INTEGER_DIGITS} digits before the point and "
            f"{MAX_FRACTION_DIGITS} after it")
    # 'f' never uses an exponent: Decimal('1E+3') -> 1000, Decimal('1E-3') -> 0.001.
    return format(value, "f")


def _render_bytes(value: Buffer) -> str:
    return "X'" + value.hex() + "'"


def _utc_offset_text(offset: _dt.timedelta) -> str:
    if offset.microseconds:
        raise DataError(f"a UTC offset with a fraction of a second ({offset}) cannot be sent")
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + f":{seconds:02d}" if seconds else text


def _render_date(value: _dt.date) -> str:
    return "DATE '" + _dt.date.isoformat(value) + "'"


def _render_time(value: _dt.time) -> str:
    clock = value.replace(tzinfo=None).isoformat()
    offset = value.utcoffset()
    if offset is None:
        return "TIME '" + clock + "'"
    return "TIMETZ '" + clock + _utc_offset_text(offset) + "'"


def _render_datetime(value: _dt.datetime) -> str:
    stamp = value.replace(tzinfo=None).isoformat(" ")
    offset = value.utcoffset()
    if offset is None:
        return "TIMESTAMP '" + stamp + "'"
    return "TIMESTAMPTZ '" + stamp + _utc_offset_text(offset) + "'"


def _render_timedelta(value: _dt.timedelta) -> str:
    # timedelta keeps days signed and 0 <= seconds < 86400, 0 <= microseconds < 10**6;
    # the three parts add up again in the server, so negative values read back intact.
    return (f"INTERVAL '{value.days} days {value.seconds} seconds "
            f"{value.microseconds} microseconds'")


def _render_uuid(value: _uuid.UUID) -> str:
    return "'" + _uuid.UUID.__str__(value) + "'"


def _render_json(value: Json) -> str:
    text = value.dumps_text()
    if not isinstance(text, str):
        raise ProgrammingError(
            f"Json dumps function returned {type(text).__name__}, not str")
    return _quote_text(text, "JSON text")


def _render_sql_literal(value: SqlLiteral) -> str:
    _check_sendable(value.text, "an SqlLiteral")
    return value.text


def _render_tuple(value: Tuple[Any, ...]) -> str:
    if not value:
        raise ProgrammingError(
            "an empty tuple cannot be rendered: SQL has no empty IN list")
    return "(" + ", ".join([render_literal(item) for item in value]) + ")"


def _type_name(value: object) -> str:
    cls = type(value)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


def _refuse(value: object) -> str:
    message = f"cannot render a {_type_name(value)} as an SQL literal"
    if isinstance(value, (dict, list)):
        message += "; wrap it in scratchbird.types.Json(...) to send it as JSON"
        if isinstance(value, list):
            message += ", or pass a tuple for an IN list"
    elif isinstance(value, (set, frozenset)):
        message += "; pass a tuple for an IN list"
    raise ProgrammingError(message)


# Exact type -> renderer: the common case is one dict lookup. Order matters in the
# subclass walk below: bool before int, datetime before date (bool is an int and a
# datetime is a date).
_RENDERERS: Dict[type, Callable[[Any], str]] = {
    type(None): _render_none,
    bool: _render_bool,
    int: _render_int,
    float: _render_float,
    str: _render_str,
    Decimal: _render_decimal,
    bytes: _render_bytes,
    bytearray: _render_bytes,
    memoryview: _render_bytes,
    _dt.datetime: _render_datetime,
    _dt.date: _render_date,
    _dt.time: _render_time,
    _dt.timedelta: _render_timedelta,
    _uuid.UUID: _render_uuid,
    Json: _render_json,
    SqlLiteral: _render_sql_literal,
    tuple: _render_tuple,
}
_SUBCLASS_ORDER = tuple((cls, fn) for cls, fn in _RENDERERS.items() if cls is not type(None))


def render_literal(value: Any) -> str:
    """``value`` as an SQL literal, or DataError / ProgrammingError saying why not."""
    renderer = _RENDERERS.get(type(value))
    if renderer is None:
        for cls, fn in _SUBCLASS_ORDER:
            if isinstance(value, cls):
                renderer = fn
                break
        else:
            renderer = _refuse
    return renderer(value)


def quote_identifier(name: str) -> str:
    """``name`` as a delimited identifier: ``"`` doubled; NUL refused."""
    if not isinstance(name, str):
        raise ProgrammingError(f"an identifier must be a str, not {_type_name(name)}")
    if not name:
        raise ProgrammingError("an identifier cannot be empty")
    _check_sendable(name, "an identifier")
    return '"' + str.replace(name, '"', '""') + '"'


# ---------------------------------------------------------------------------------
# Finding placeholders
# ---------------------------------------------------------------------------------

_QMARK, _NUMERIC, _NAMED = 1, 2, 3

# (start, end, style, key): key None (_QMARK), the int n of $n or the str name of :name
_Mark = Tuple[int, int, int, Any]

# Identifier characters as PostgreSQL's lexer has them: every non-ASCII character is a
# letter, and '$' may continue (not start) an identifier, so x$1 is one name.
_IDENTIFIER = "[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_$\x80-\U0010ffff]*"
# What is copied through as it is, skipped in one step: runs of characters that start
# nothing, a - or / that opens no comment, and whole identifiers, except a lone E just
# before a quote, which opens an E'...' string.
_PLAIN = re.compile(
    "(?:[^'\"\\-/$?:A-Za-z_\x80-\U0010ffff]+|-(?!-)|/(?!\\*)|(?![Ee]')" + _IDENTIFIER + ")+")
_DOLLAR_TAG = re.compile("\\$(?:[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)?\\$")
_PLACEHOLDER_NAME = re.compile("[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile("[0-9]+")
_COLONS = re.compile(":+")
_LINE_END = re.compile("[\r\n]")
_COMMENT_MARK = re.compile("/\\*|\\*/")
_E_STRING_STOP = re.compile("['\\\\]")


def _is_identifier_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "_$") or ch >= "\x80"


def _end_of_quoted(sql: str, i: int, quote: str) -> int:
    """Index just past the quote closing a '...' or "..." that opened before ``i``."""
    while True:
        j = sql.find(quote, i)
        if j < 0:
            return len(sql)  # unterminated: the rest is quoted, the server will say so
        if sql.startswith(quote, j + 1):  # '' or "" stands for one quote
            i = j + 2
            continue
        return j + 1


def _end_of_e_string(sql: str, i: int) -> int:
    """Index just past the quote closing an E'...' string (backslash escapes)."""
    while True:
        stop = _E_STRING_STOP.search(sql, i)
        if stop is None:
            return len(sql)
        j = stop.start()
        if sql[j] == "\\" or sql.startswith("'", j + 1):
            i = j + 2  # \x or '' stands for one character
            continue
        return j + 1


def _end_of_block_comment(sql: str, i: int) -> int:
    """Index just past the */ closing a /* opened before ``i``; nests as in PostgreSQL."""
    depth = 1
    while True:
        mark = _COMMENT_MARK.search(sql, i)
        if mark is None:
            return len(sql)
        depth += 1 if mark.group() == "/*" else -1
        i = mark.end()
        if depth == 0:
            return i


def _scan_placeholders(sql: str) -> List[_Mark]:
    """``[(start, end, style, key), ...]`` for the placeholders outside quotes and comments.

    ``style`` is _QMARK (key None), _NUMERIC (key: the n of ``$n``) or _NAMED (key: the
    name of ``:name``); ``sql[start:end]`` is the placeholder's text.
    """
    found: List[_Mark] = []
    n = len(sql)
    i = 0
    while True:
        plain = _PLAIN.match(sql, i)
        if plain is not None:
            i = plain.end()
        if i >= n:
            return found
        ch = sql[i]
        if ch == "'" or ch == '"':
            i = _end_of_quoted(sql, i + 1, ch)
        elif ch == "-":  # --, to the end of the line
            line_end = _LINE_END.search(sql, i)
            i = n if line_end is None else line_end.end()
        elif ch == "/":  # /*
            i = _end_of_block_comment(sql, i + 2)
        elif ch == "?":
            found.append((i, i + 1, _QMARK, None))
            i += 1
        elif ch == "$":
            digits = _DIGITS.match(sql, i + 1)
            tag = _DOLLAR_TAG.match(sql, i)
            if digits is not None:
                found.append((i, digits.end(), _NUMERIC, int(digits.group())))
                i = digits.end()
            elif tag is not None:
                close = sql.find(tag.group(), tag.end())
                i = n if close < 0 else close + len(tag.group())
            else:
                i += 1  # a lone '$' (or $name with no closing $); the server will judge it
        elif ch == ":":
            name = _PLACEHOLDER_NAME.match(sql, i + 1)
            if sql.startswith("::", i):
                # a :: cast is never a placeholder (and _COLONS matches: sql[i:] starts with ::)
                i = _COLONS.match(sql, i).end()  # type: ignore[union-attr]
            elif name is not None:
                found.append((i, name.end(), _NAMED, name.group()))
                i = name.end()
            else:
                i += 1
        else:  # E or e right before a quote
            i = _end_of_e_string(sql, i + 2)


# ---------------------------------------------------------------------------------
# Substituting them
# ---------------------------------------------------------------------------------

def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _given(n: int) -> str:
    return f"{_count(n, 'parameter')} {'was' if n == 1 else 'were'} given"


def _splice(sql: str, marks: List[_Mark], literals: List[str]) -> str:
    """``sql`` with ``marks[k]`` replaced by ``literals[k]``.

    A space goes in front of a literal that would otherwise fuse with the token before
    it: ``x-?`` with -1 must not become the comment ``x--1``, and ``E?`` must not turn a
    value into a backslash-escaped E'' string.
    """
    parts = []
    pos = 0
    for (start, end, _, _), literal in zip(marks, literals):
        parts.append(sql[pos:start])
        if start:
            before = sql[start - 1]
            if _is_identifier_char(before) or (before == "-" and literal.startswith("-")):
                parts.append(" ")
        parts.append(literal)
        pos = end
    parts.append(sql[pos:])
    return "".join(parts)


def _merge_named(sql: str, params: Mapping[str, Any]) -> str:
    marks = _scan_placeholders(sql)
    for start, end, style, _ in marks:
        if style != _NAMED:
            raise ProgrammingError(
                f"the query uses the positional placeholder {sql[start:end]} but the "
                f"parameters were given as a mapping")
    names = list(dict.fromkeys(key for _, _, _, key in marks))  # first use order
    missing = [name for name in names if name not in params]
    if missing:
        raise ProgrammingError(
            "no value was given for " + ", ".join(f":{name}" for name in missing))
    unused = set(params).difference(names)
    if unused:
        raise ProgrammingError(
            "parameters not used by the query: "
            + ", ".join(repr(key) for key in sorted(unused, key=str)))
    if not marks:
        return sql
    rendered = {name: render_literal(params[name]) for name in names}
    return _splice(sql, marks, [rendered[key] for _, _, _, key in marks])


def _merge_positional(sql: str, params: Sequence[Any]) -> str:
    marks = _scan_placeholders(sql)
    n = len(params)
    qmarks = numbered = 0
    for start, end, style, _ in marks:
        if style == _NAMED:
            raise ProgrammingError(
                f"the query uses the named placeholder {sql[start:end]} but the parameters "
                f"were given as a sequence; pass a mapping")
        if style == _QMARK:
            qmarks += 1
        else:
            numbered += 1
    if qmarks and numbered:
        raise ProgrammingError("the query mixes ? and $n placeholders; use one style")
    if numbered:
        indexes = {key for _, _, _, key in marks}
        if 0 in indexes:
            raise ProgrammingError("$0 is not a placeholder: numbering starts at $1")
        highest = max(indexes)
        if highest > n:
            raise ProgrammingError(
                f"the query uses placeholders up to ${highest} but {_given(n)}")
        unused = [f"${k}" for k in range(1, n + 1) if k not in indexes]
        if unused:
            raise ProgrammingError(
                f"{_given(n)} but the query never uses {', '.join(unused)}")
        values = [render_literal(value) for value in params]
        return _splice(sql, marks, [values[key - 1] for _, _, _, key in marks])
    if qmarks != n:
        raise ProgrammingError(
            f"the query has {_count(qmarks, 'placeholder')} but {_given(n)}")
    if not marks:
        return sql
    return _splice(sql, marks, [render_literal(value) for value in params])


def merge_params(sql: str, params: Optional[Params]) -> str:
    """``sql`` with its placeholders replaced by ``params`` rendered as SQL literals.

    ``params`` None returns ``sql`` untouched. A mapping fills ``:name`` placeholders; a
    list or tuple (any sequence but str and bytes) fills ``?`` or ``$1``..``$n``.
    Placeholders inside quotes, comments and dollar quotes are left alone.
    """
    if params is None:
        return sql
    if not isinstance(sql, str):
        raise ProgrammingError(f"the query must be a str, not {_type_name(sql)}")
    if isinstance(params, Mapping):
        return _merge_named(sql, params)
    if isinstance(params, (str, bytes, bytearray, memoryview)) or not isinstance(params, Sequence):
        raise ProgrammingError(
            f"parameters must be a sequence (list or tuple) or a mapping, not "
            f"{_type_name(params)}")
    return _merge_positional(sql, params)
