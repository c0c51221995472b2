"""Binary value codecs for DATE, TIME, TIMETZ, TIMESTAMP, TIMESTAMPTZ and INTERVAL.

Part of the pure twin of ``ext/bincodec.pyx``; layouts in docs/protocol.md 1.4. Python's
date and datetime hold years 1..9999 and microseconds: values outside them (and the
spec's infinity sentinels) are refused, never clamped.
"""
from __future__ import annotations

import datetime as _dt
import struct
from typing import Any, Optional

from scratchbird.binary_types import Interval
from scratchbird._pure.bincodec_scalar import (
    DATE, INTERVAL, TIME, TIMESTAMP, TIMESTAMPTZ, TIMETZ, Options, TypeSpec, _expected, _fixed,
    _I32, _Malformed, _register,
)

EPOCH_DATE = _dt.date(2000, 1, 1)
EPOCH = _dt.datetime(2000, 1, 1)
EPOCH_UTC = EPOCH.replace(tzinfo=_dt.timezone.utc)
US_PER_DAY = 86_400_000_000
MIN_DAYS = (_dt.date.min - EPOCH_DATE).days          # 0001-01-01
MAX_DAYS = (_dt.date.max - EPOCH_DATE).days          # 9999-12-31
MIN_US = MIN_DAYS * US_PER_DAY
MAX_US = (MAX_DAYS + 1) * US_PER_DAY - 1
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1
_I64 = struct.Struct("<q")
_TIMETZ = struct.Struct("<qi")
_INTERVAL = struct.Struct("<qii")   # microseconds, days, months: REFERENCE 8.7's order


def _dec_date(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 4)
    days = _I32.unpack(data)[0]
    if days == I32_MAX or days == I32_MIN:
        raise _Malformed(f"date is {'+' if days > 0 else '-'}infinity, which Python's date cannot hold")
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise _Malformed(f"date {days} days from 2000-01-01 is outside years 1..9999")
    return EPOCH_DATE + _dt.timedelta(days=days)


def _enc_date(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, _dt.date) or isinstance(value, _dt.datetime):
        raise _expected("date", value)
    return _I32.pack((value - EPOCH_DATE).days)


def _time_of(us: int, tzinfo: Optional[_dt.tzinfo] = None) -> _dt.time:
    if not 0 <= us < US_PER_DAY:
        raise _Malformed(f"time of day {us} microseconds is outside 00:00:00..23:59:59.999999")
    seconds, micro = divmod(us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return _dt.time(hour, minute, second, micro, tzinfo)


def _us_of_time(value: _dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def _dec_time(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 8)
    return _time_of(_I64.unpack(data)[0])


def _enc_time(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, _dt.time):
        raise _expected("time", value)
    if value.utcoffset() is not None:
        raise _Malformed("TIME takes a naive time; an aware time is TIMETZ")
    return _I64.pack(_us_of_time(value))


def _dec_timetz(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 12)
    us, offset = _TIMETZ.unpack(data)
    if not -86399 <= offset <= 86399:
        raise _Malformed(f"time zone offset {offset} seconds is outside -86399..86399")
    return _time_of(us, _dt.timezone(_dt.timedelta(seconds=offset)))


def _enc_timetz(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, _dt.time):
        raise _expected("time", value)
    offset = value.utcoffset()
    if offset is None:
        raise _Malformed("TIMETZ takes an aware time with a fixed UTC offset")
    if offset.microseconds:
        raise _Malformed("a UTC offset with fractions of a second has no binary form")
    return _TIMETZ.pack(_us_of_time(value), offset.days * 86400 + offset.seconds)


def _timestamp_us(data: bytes) -> int:
    _fixed(data, 8)
    us: int = _I64.unpack(data)[0]
    if us == I64_MAX or us == I64_MIN:
        raise _Malformed(f"timestamp is {'+' if us > 0 else '-'}infinity, which Python's datetime cannot hold")
    if not MIN_US <= us <= MAX_US:
        raise _Malformed(f"timestamp {us} microseconds from 2000-01-01 is outside years 1..9999")
    return us


def _dec_timestamp(data: bytes, opts: Options, depth: int) -> Any:
    return EPOCH + _dt.timedelta(microseconds=_timestamp_us(data))


def _dec_timestamptz(data: bytes, opts: Options, depth: int) -> Any:
    return EPOCH_UTC + _dt.timedelta(microseconds=_timestamp_us(data))


def _us_since(value: _dt.datetime, epoch: _dt.datetime) -> int:
    delta = value - epoch
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _enc_timestamp(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, _dt.datetime):
        raise _expected("datetime", value)
    if value.utcoffset() is not None:
        raise _Malformed("TIMESTAMP takes a naive datetime; an aware datetime is TIMESTAMPTZ")
    return _I64.pack(_us_since(value, EPOCH))


def _enc_timestamptz(value: Any, spec: TypeSpec) -> bytes:
    if not isinstance(value, _dt.datetime):
        raise _expected("datetime", value)
    if value.utcoffset() is None:
        raise _Malformed("TIMESTAMPTZ takes an aware datetime (a naive one has no instant)")
    us = _us_since(value, EPOCH_UTC)
    if not MIN_US <= us <= MAX_US:
        raise _Malformed("the instant in UTC falls outside years 1..9999")
    return _I64.pack(us)


def _dec_interval(data: bytes, opts: Options, depth: int) -> Any:
    _fixed(data, 16)
    us, days, months = _INTERVAL.unpack(data)
    return Interval(months, days, us)


def _enc_interval(value: Any, spec: TypeSpec) -> bytes:
    if isinstance(value, _dt.timedelta):
        value = Interval.from_timedelta(value)
    elif not isinstance(value, Interval):
        raise _expected("Interval or timedelta", value)
    if not (I64_MIN <= value.microseconds <= I64_MAX and I32_MIN <= value.days <= I32_MAX
            and I32_MIN <= value.months <= I32_MAX):
        raise _Malformed("interval parts do not fit i64 microseconds, i32 days, i32 months")
    return _INTERVAL.pack(value.microseconds, value.days, value.months)


_register([DATE], _dec_date, _enc_date)
_register([TIME], _dec_time, _enc_time)
_register([TIMETZ], _dec_timetz, _enc_timetz)
_register([TIMESTAMP], _dec_timestamp, _enc_timestamp)
_register([TIMESTAMPTZ], _dec_timestamptz, _enc_timestamptz)
_register([INTERVAL], _dec_interval, _enc_interval)
