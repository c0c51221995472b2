"""One valid value of every binary type (the seeds of the row and value harnesses)."""
from __future__ import annotations

import datetime as dt
import ipaddress
import uuid
from decimal import Decimal

__all__ = ["samples"]


def samples():
    """``[(type_id, value), ...]`` covering every type of the binary type map."""
    from scratchbird._pure import bincodec as B
    from scratchbird.binary_types import Geometry, Interval, Jsonb, Range

    utc = dt.timezone.utc
    wkb_point = bytes.fromhex("0101000000000000000000f03f0000000000000040")
    return [
        (B.BOOLEAN, True), (B.INT8, -128), (B.INT16, 32767), (B.INT32, -2**31),
        (B.INT64, 2**63 - 1), (B.INT128, -2**127), (B.UINT8, 255), (B.UINT16, 65535),
        (B.UINT32, 2**32 - 1), (B.UINT64, 2**64 - 1), (B.UINT128, 2**128 - 1),
        (B.DECIMAL, Decimal("-12345.678900")), (B.DECFLOAT, Decimal("1E+300")),
        (B.MONEY, Decimal("19.99")), (B.FLOAT32, 1.5), (B.FLOAT64, -2.5e300),
        (B.TEXT, "h\u00e9llo \u2603"), (B.XML, "<a/>"), (B.ENUM, "red"),
        (B.TSVECTOR, "'a':1"), (B.TSQUERY, "a & b"), (B.JSON, '{"a": [1, 2]}'),
        (B.JSONB, Jsonb('{"b": null}')), (B.BINARY, b"\x00\xff"), (B.BLOB, b"blob" * 10),
        (B.BIT, "10110"), (B.DATE, dt.date(1999, 12, 31)), (B.TIME, dt.time(23, 59, 59, 999999)),
        (B.TIMETZ, dt.time(1, 2, 3, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
        (B.TIMESTAMP, dt.datetime(2000, 2, 29, 12)),
        (B.TIMESTAMPTZ, dt.datetime(2020, 1, 1, tzinfo=utc)),
        (B.INTERVAL, Interval(1, -2, 3_000_000)), (B.UUID, uuid.UUID(int=2**128 - 1)),
        (B.INET, ipaddress.ip_interface("10.1.2.3/8")),
        (B.CIDR, ipaddress.ip_network("2001:db8::/32")), (B.MACADDR, "08:00:2b:01:02:03"),
        (B.GEOMETRY, Geometry(wkb_point)), (B.GEOGRAPHY, Geometry(wkb_point)),
        (B.POINT, Geometry(wkb_point)), (B.SHAPE, Geometry(wkb_point)),
        (B.VECTOR, [1.0, -0.5, 3.25]),
        (B.ARRAY, [[1, None], [3, 4]]), (B.LIST, ["a", None, "c"]),
        (B.RANGE, Range(1, 10, "[)")), (B.MULTIRANGE, [Range(1, 2, "[)"), Range(5, 9, "[)")]),
        (B.MAP, {"k": 1, "j": None}), (B.ROW, (1, "x", None)), (B.COMPOSITE, (2.5, True)),
        (B.VARIANT, 42),
    ]
