"""Connection parameters: URI and key=value DSNs plus keyword arguments.

``scratchbird://user:password@host:port/database?key=value`` (percent-decoded, IPv6
hosts in brackets) or ``host=... port=... dbname=... user=...`` (values may be
single-quoted with backslash escapes, as in libpq). Keyword arguments to ``connect()``
override the DSN. An unknown key raises ProgrammingError naming it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, Dict, Optional, Tuple
from urllib.parse import parse_qsl, unquote, urlsplit

from scratchbird.errors import ProgrammingError

__all__ = ["ConnectParams", "parse_dsn", "make_params", "SSLMODES", "DEFAULT_PORT"]

DEFAULT_PORT = 3092
SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
_SCHEMES = ("scratchbird", "sbwp")
_ALIASES = {"dbname": "database", "db": "database", "username": "user", "tls": "sslmode",
            "sslrootcert_file": "sslrootcert"}


@dataclass
class ConnectParams:
    """Every setting of a connection, validated. ``password`` never shows in repr."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    database: str = "default"
    user: str = ""
    password: Optional[str] = field(default=None, repr=False)
    sslmode: str = "prefer"
    sslrootcert: Optional[str] = None
    sslcert: Optional[str] = None
    sslkey: Optional[str] = None
    connect_timeout: Optional[float] = 10.0
    socket_timeout: Optional[float] = None
    application_name: Optional[str] = None
    search_path: Optional[str] = None
    binary_transfer: bool = True
    binary_copy: bool = True   # offer feature 8: COPY rows as binary SBNR packets
    compression: str = "off"
    parse_json: bool = False   # binary JSON/JSONB values parsed with json.loads
    # driver options (keyword arguments or DSN keys)
    null_markers: Tuple[bytes, ...] = (b"<NULL>", b"NULL", b"")
    raw_text: bool = False
    report_rows: bool = False  # pass the server's report rows through as results (_shapes)
    startup_layout: str = "p1"
    statement_timeout: Optional[float] = None   # seconds per statement; 0/None = none
    log_parameters: bool = False   # DEBUG logs show parameter values, not only their types
    statement_cache_size: int = 64             # scratchbird.prepared: LRU entries
    prepare_threshold: Optional[int] = 5       # prepared at the n-th use; None: never
    sslmode_explicit: bool = field(default=False, repr=False)

    def __repr__(self) -> str:  # dataclass repr minus the password, made explicit
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                          if f.repr)
        return f"ConnectParams({shown})"


_KEYS = {f.name for f in fields(ConnectParams)} - {"sslmode_explicit"}


def _parse_bool(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on", "t", "y"):
        return True
    if text in ("0", "false", "no", "off", "f", "n"):
        return False
    raise ProgrammingError(f"connection option {key!r}: {value!r} is not a boolean")


def _parse_timeout(key: str, value: Any) -> Optional[float]:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ProgrammingError(f"connection option {key!r}: {value!r} is not a number of seconds") from None
    if seconds < 0:
        raise ProgrammingError(f"connection option {key!r} must not be negative")
    return seconds or None  # 0 means no timeout, as in libpq


def _parse_count(key: str, value: Any) -> Optional[int]:
    """A count >= 0; ``prepare_threshold`` also takes None (DSN: ``none``): never."""
    if key == "prepare_threshold" and (value is None or str(value).strip().lower() in ("none", "")):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ProgrammingError(f"connection option {key!r}: {value!r} is not a whole number") from None
    if number < 0 or isinstance(value, float) and value != number:
        raise ProgrammingError(f"connection option {key!r} must be a whole number >= 0")
    return number


def _parse_markers(value: Any) -> Tuple[bytes, ...]:
    if isinstance(value, (str, bytes)):
        value = [value] if value else []
    out = []
    for marker in value:
        out.append(marker.encode("utf-8") if isinstance(marker, str) else bytes(marker))
    return tuple(out)


def _set(values: Dict[str, Any], key: str, value: Any) -> None:
    key = _ALIASES.get(key, key)
    if key not in _KEYS:
        raise ProgrammingError(f"unknown connection option {key!r}")
    values[key] = value


_KV_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")


def _parse_keyvalue(dsn: str) -> Dict[str, Any]:
    values: Dict[str, Any] = {}
    pos = 0
    while pos < len(dsn):
        if dsn[pos:].strip() == "":
            break
        m = _KV_RE.match(dsn, pos)
        if not m:
            # The text is not echoed: a malformed DSN may hold a password (a URL with a
            # typo in its scheme is parsed as key=value and fails right at its start).
            raise ProgrammingError(f"cannot parse DSN at character {pos + 1}: expected "
                                   f"key=value (or a scratchbird:// URL)")
        key, pos = m.group(1), m.end()
        if pos < len(dsn) and dsn[pos] == "'":
            pos += 1
            chars = []
            while True:
                if pos >= len(dsn):
                    raise ProgrammingError(f"unterminated quoted value for DSN key {key!r}")
                ch = dsn[pos]
                if ch == "\\" and pos + 1 < len(dsn):
                    chars.append(dsn[pos + 1])
                    pos += 2
                    continue
                pos += 1
                if ch == "'":
                    break
                chars.append(ch)
            value = "".join(chars)
        else:
            end = pos
            while end < len(dsn) and not dsn[end].isspace():
                end += 1
            value, pos = dsn[pos:end], end
        _set(values, key, value)
    return values


def _parse_uri(dsn: str) -> Dict[str, Any]:
    parts = urlsplit(dsn)
    values: Dict[str, Any] = {}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        if user:
            values["user"] = unquote(user)
        if sep:
            values["password"] = unquote(password)
    else:
        hostport = netloc
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            raise ProgrammingError("DSN has an unterminated IPv6 address")
        host, rest = hostport[1:end], hostport[end + 1:]
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    if host:
        values["host"] = unquote(host)
    if port:
        values["port"] = port
    database = unquote(parts.path.lstrip("/"))
    if database:
        values["database"] = database
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        _set(values, key, value)
    return values


def parse_dsn(dsn: Optional[str]) -> Dict[str, Any]:
    """Parse a DSN string into raw option values (not yet validated)."""
    if not dsn:
        return {}
    scheme = dsn.split("://", 1)[0].lower() if "://" in dsn else ""
    if scheme:
        if scheme not in _SCHEMES:
            raise ProgrammingError(f"unsupported DSN scheme {scheme!r} (use scratchbird://)")
        return _parse_uri(dsn)
    return _parse_keyvalue(dsn)


def make_params(dsn: Optional[str] = None, **kwargs: Any) -> ConnectParams:
    """Validated parameters from a DSN and keyword arguments (keywords win)."""
    values = parse_dsn(dsn)
    for key, value in kwargs.items():
        if value is not None or key == "prepare_threshold":   # None there means "never"
            _set(values, key, value)
    params = ConnectParams()
    for key, value in values.items():
        if key == "port":
            try:
                value = int(value)
            except (TypeError, ValueError):
                raise ProgrammingError(f"connection option 'port': {value!r} is not a port number") from None
            if not 0 < value < 65536:
                raise ProgrammingError(f"connection option 'port': {value} is out of range")
        elif key in ("connect_timeout", "socket_timeout", "statement_timeout"):
            value = _parse_timeout(key, value)
        elif key in ("binary_transfer", "binary_copy", "raw_text", "parse_json", "report_rows",
                     "log_parameters"):
            value = _parse_bool(key, value)
        elif key == "null_markers":
            value = _parse_markers(value)
        elif key in ("statement_cache_size", "prepare_threshold"):
            value = _parse_count(key, value)
        elif key == "sslmode":
            value = str(value).lower()
            if value not in SSLMODES:
                raise ProgrammingError(f"connection option 'sslmode': {value!r} is not one of {', '.join(SSLMODES)}")
            params.sslmode_explicit = True
        elif key == "compression":
            value = str(value).lower()
            if value not in ("off", "zstd", "none", "false", "0", "on", "true", "1"):
                raise ProgrammingError(f"connection option 'compression': {value!r} is not 'zstd' or 'off'")
            value = "zstd" if value in ("zstd", "on", "true", "1") else "off"
        elif key == "startup_layout":
            value = str(value).lower()
            if value not in ("p1", "legacy"):
                raise ProgrammingError("connection option 'startup_layout' must be 'p1' or 'legacy'")
        elif value is not None and key not in ("password",):
            value = str(value)
        setattr(params, key, value)
    return params
