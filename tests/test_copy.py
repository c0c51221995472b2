"""cursor.copy() against the dev server, both profiles (REFERENCE 7.8, 12.A.13, 12.D):
binary (SBNR) and text COPY, every SBNR tag with NULLs in every position, the text-form
refusals, COPY_FAIL on an exception, and every COPY error with the connection usable."""
from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird._impl import copycodec
from scratchbird.errors import (DataError, InterfaceError, NotSupportedError, OperationalError,
                                ProgrammingError, error_from_fields)

_names = itertools.count(1)


def table(conn, columns: str) -> str:
    name = f"copy_t{next(_names)}"
    conn.cursor().execute(f"CREATE TABLE {name} ({columns})")
    return name


def rows_of(conn, name, order="id"):
    cur = conn.cursor(raw_text=False)
    cur.execute(f"SELECT * FROM {name} ORDER BY {order}")
    return cur.fetchall()


def count(conn, name) -> int:
    cur = conn.cursor()
    cur.execute(f"SELECT count(*) FROM {name}")
    return cur.fetchall()[0][0]


def assert_usable(conn):
    cur = conn.cursor()
    cur.execute("SELECT 41 + 1 AS v")
    assert cur.fetchall() == [(42,)]


@pytest.fixture
def text_conn(devserver):
    """A session that does not offer feature 8: the server chooses text COPY (12.B.7.7)."""
    connection = scratchbird.connect(devserver.dsn, binary_copy=False)
    yield connection
    connection.close()


def report_for(profile, *counts):
    if profile == "full":       # COMMAND_COMPLETE only (docs/protocol.md 5)
        return None
    total = sum(counts)
    return {"accepted_rows": total, "inserted_rows": total, "rejected_rows": 0}


def test_binary_copy_every_tag_with_nulls_in_every_position(conn, profile):
    name = table(conn, "id bigint, t text, i64 bigint, b boolean, i32 integer, u64 ubigint, "
                       "f double, bin blob")
    sample = ["x", -(1 << 63), True, -(1 << 31), (1 << 64) - 1, -0.5, b"\x00\xff"]
    rows = [tuple(sample), (None,) * 7]
    for k in range(7):
        rows.append(tuple(None if j == k else sample[j] for j in range(7)))
        rows.append(tuple(sample[j] if j == k else None for j in range(7)))
    cur = conn.cursor()
    with cur.copy(f"COPY {name} (id, t, i64, b, i32, u64, f, bin) FROM STDIN",
                  batch_rows=5) as copy:
        copy.set_types(["int64", "text", "int64", "boolean", "int32", "uint64", "real64", "binary"])
        assert copy.mode == "binary"
        copy.write_rows((i,) + row for i, row in enumerate(rows))
    assert cur.rowcount == len(rows) == 16
    assert cur.statusmessage == "COPY 16"
    # 16 rows in packets of 5: one report row per packet, summed (12.D)
    assert cur.server_report == report_for(profile, 16)
    got = rows_of(conn, name)
    assert [r[0] for r in got] == list(range(16))
    for (_, *values), want in zip(got, rows):
        for v, w in zip(values, want):
            if w is None:
                assert v is None
            elif isinstance(w, bytes) and profile == "sbsql":
                assert v == w.hex()             # text sessions: BLOB as hex (12.B.2)
            else:
                assert v == w or str(v) == str(w) or (isinstance(v, Decimal) and v == Decimal(str(w)))


def test_binary_copy_infers_tags_and_sends_other_values_as_text(conn, profile):
    name = table(conn, "id integer, amount decimal(10,2), day date, ts timestamp, note text")
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {name} (id) VALUES (0)")   # a row to read the columns from
    rows = [(1, Decimal("12.50"), dt.date(2024, 2, 29), dt.datetime(2024, 1, 2, 3, 4, 5), "a"),
            (2, None, None, None, None)]
    with cur.copy(f"COPY {name} FROM STDIN") as copy:     # columns from the table (a row of it)
        copy.write_row(rows[0])
        copy.write_row(list(rows[1]))
    assert cur.rowcount == 2 and cur.server_report == report_for(profile, 2)
    got = rows_of(conn, name)[1:]
    assert got[0][0] == 1 and str(got[0][1]) == "12.50" and str(got[0][2]) == "2024-02-29"
    assert str(got[0][3]).replace("T", " ") == "2024-01-02 03:04:05" and got[0][4] == "a"
    assert got[1] == (2, None, None, None, None)


def test_text_copy(text_conn, profile):
    name = table(text_conn, "id integer, name text, qty integer")
    cur = text_conn.cursor()
    with cur.copy(f"COPY {name} (id, name, qty) FROM STDIN", batch_rows=2) as copy:
        assert copy.mode == "text"
        copy.write_rows([(1, "alpha", 10), (2, None, 20), (3, "a=b", 30)])
        copy.write(b"id=4;name=raw;qty=40\n")
    # text COPY: one report row for the whole COPY (captures/14)
    assert cur.rowcount == 4 and cur.server_report == report_for(profile, 4)
    assert rows_of(text_conn, name) == [(1, "alpha", 10), (2, None, 20), (3, "a=b", 30),
                                        (4, "raw", 40)]


@pytest.mark.parametrize("value", ["a;b", "two\nlines", " lead", "trail ", "NULL", "<null>"])
def test_text_refusals_leave_no_row(text_conn, value):
    name = table(text_conn, "id integer, note text")
    cur = text_conn.cursor()
    with pytest.raises(DataError, match=r"COPY row 3, column 'note'"):
        with cur.copy(f"COPY {name} (id, note) FROM STDIN", batch_rows=2) as copy:
            copy.write_rows([(1, "sent"), (2, "in the first COPY_DATA"), (3, value)])
    assert count(text_conn, name) == 0      # the first COPY_DATA was dropped with the COPY
    assert_usable(text_conn)


def test_format_text_on_a_binary_session_is_refused(conn):
    name = table(conn, "id integer")
    with pytest.raises(NotSupportedError, match="binary_copy=false"):
        with conn.cursor().copy(f"COPY {name} FROM STDIN", format="text"):
            pass
    assert_usable(conn)


def test_exception_mid_stream_sends_copy_fail(conn):
    name = table(conn, "id integer, v text")
    conn.cursor().execute(f"INSERT INTO {name} (id, v) VALUES (0, 'before')")
    cur = conn.cursor()
    progress = []
    with pytest.raises(KeyError, match="stop"):
        with cur.copy(f"COPY {name} (id, v) FROM STDIN", batch_rows=10,
                      progress=progress.append) as copy:
            copy.write_rows((i, "x") for i in range(1, 26))
            raise KeyError("stop")
    assert progress == [10, 20]             # two packets had gone out before the failure
    assert rows_of(conn, name) == [(0, "before")]
    assert_usable(conn)


def test_no_rows_is_a_data_error(conn):
    name = table(conn, "id integer")
    with pytest.raises(DataError) as info:
        with conn.cursor().copy(f"COPY {name} FROM STDIN"):
            pass
    assert (info.value.sqlstate, info.value.diag_code) == ("22000", "SBSQL.COPY.NO_ROWS")
    assert_usable(conn)


def test_malformed_packet_is_refused_at_once(conn):
    name = table(conn, "id integer")
    with pytest.raises(DataError) as info:
        with conn.cursor().copy(f"COPY {name} (id) FROM STDIN") as copy:
            copy.write(b"id=1\n")           # text in a binary COPY (12.A.13)
            copy.write_rows([(k,) for k in range(3)])
    assert info.value.diag_code == "SBSQL.COPY.DATA_ROW_INVALID"
    assert count(conn, name) == 0
    assert_usable(conn)


def test_descriptor_mismatch_drops_the_whole_copy(conn):
    name = table(conn, "id bigint, qty bigint")
    cur = conn.cursor()
    other = copycodec.sbnr_header([2, 4], ["id", "qty"])
    bad, _ = copycodec.encode_sbnr_packet(other, [2, 4], ["id", "qty"], [(9, 9)], 0, 1 << 20, str)
    with pytest.raises(ProgrammingError) as info:
        with cur.copy(f"COPY {name} (id, qty) FROM STDIN", batch_rows=1) as copy:
            copy.write_row((1, 10))         # packet 1: int64, int64
            copy.write(bad)                 # packet 2: int64, int32 -> refused at once
            copy.write_row((2, 20))         # may go out before the refusal is seen
    assert (info.value.sqlstate, info.value.diag_code) == ("42000", "SBSQL.COPY.DESCRIPTOR_MISMATCH")
    assert count(conn, name) == 0           # the valid first packet is dropped too (12.D)
    assert_usable(conn)


def test_async_011_maps_to_operational_error():
    """ASYNC-011 (COPY frames with no COPY) only reaches the driver after an early error,
    where the fence drops it; its class, for anyone who meets it: OperationalError."""
    error = error_from_fields({"S": "ERROR", "C": "08P01", "M": "ASYNC-011",
                               "D": "COPY_DONE arrived without a prior accepted COPY initiation"})
    assert isinstance(error, OperationalError) and error.diag_code == "ASYNC-011"


def test_engine_error_at_copy_done(conn):
    name = table(conn, "id integer PRIMARY KEY")
    conn.cursor().execute(f"INSERT INTO {name} (id) VALUES (1)")
    with pytest.raises(scratchbird.DatabaseError) as info:
        with conn.cursor().copy(f"COPY {name} (id) FROM STDIN") as copy:
            copy.write_rows([(2,), (1,)])
    assert info.value.sqlstate == "42000"
    assert rows_of(conn, name) == [(1,)]
    assert_usable(conn)


def test_requests_during_a_copy_are_refused(conn):
    name = table(conn, "id integer")
    cur = conn.cursor()
    with cur.copy(f"COPY {name} FROM STDIN", columns=["id"]) as copy:
        with pytest.raises(InterfaceError, match="COPY is in progress"):
            conn.cursor().execute("SELECT 1")
        copy.write_row((5,))
    assert cur.rowcount == 1 and rows_of(conn, name) == [(5,)]


def test_plain_execute_of_copy_is_abandoned(conn):
    name = table(conn, "id integer")
    with pytest.raises(ProgrammingError, match="cursor.copy"):
        conn.cursor().execute(f"COPY {name} FROM STDIN")
    assert_usable(conn)


def test_empty_table_without_a_column_list(conn, devserver):
    name = table(conn, "id integer")
    if devserver.profile_name == "full":
        # the spec's profile describes a 0-row SELECT (docs/protocol.md 5.5): the names are known
        with conn.cursor().copy(f"COPY {name} FROM STDIN") as copy:
            copy.write_row((1,))
        assert count(conn, name) == 1
    else:
        # today's server sends no ROW_DESCRIPTION for 0 rows (REFERENCE 4.2): no names to use
        with pytest.raises(ProgrammingError, match="name them"):
            with conn.cursor().copy(f"COPY {name} FROM STDIN") as copy:
                copy.write_row((1,))
        assert count(conn, name) == 0
    assert_usable(conn)


def test_autocommit_copy_is_committed(devserver):
    with scratchbird.connect(devserver.dsn, binary_copy=False) as first:
        first.autocommit = True
        name = table(first, "id integer")
        with first.cursor().copy(f"COPY {name} (id) FROM STDIN") as copy:
            copy.write_rows([(1,), (2,)])
        with scratchbird.connect(devserver.dsn) as second:
            assert count(second, name) == 2


def test_copy_needs_feature_1(devserver):
    with scratchbird.connect(devserver.dsn, startup_layout="legacy") as legacy:
        assert not legacy.info["negotiated_features"] & c.FEATURE_STREAMING
        with pytest.raises(NotSupportedError, match="feature 1"):
            legacy.cursor().copy("COPY t FROM STDIN").__enter__()


def test_text_copy_refuses_names_it_cannot_carry(text_conn):
    name = table(text_conn, '"a=b" integer')
    with pytest.raises(ProgrammingError, match="cannot be sent in text COPY"):
        with text_conn.cursor().copy(f"COPY {name} FROM STDIN", columns=["a=b"]) as copy:
            copy.write_row((1,))
    assert_usable(text_conn)


def _sbcp(rows):
    """An SBCP v1 packet (REFERENCE 7.8) of rows given as [(name, value or None), ...]."""
    import struct
    out = [b"SBCP\x01\x00\x00\x00", struct.pack("<I", len(rows))]
    for row in rows:
        out.append(struct.pack("<I", len(row)))
        for name, value in row:
            raw = b"" if value is None else value.encode()
            out += [struct.pack("<I", len(name)), name.encode(), bytes([value is None]),
                    struct.pack("<I", len(raw)), raw]
    return b"".join(out)


def test_dev_server_takes_sbcp_packets(conn, profile):
    name = table(conn, "id integer, note text")
    cur = conn.cursor()
    with cur.copy(f"COPY {name} (id, note) FROM STDIN") as copy:
        copy.write(_sbcp([[("id", "1"), ("note", "a b")], [("id", "2"), ("note", None)]]))
        copy.write(_sbcp([[("id", "3"), ("note", "c")]]))
    assert cur.rowcount == 3 and cur.server_report == report_for(profile, 3)
    assert rows_of(conn, name) == [(1, "a b"), (2, None), (3, "c")]
    with pytest.raises(DataError, match="malformed"):
        with cur.copy(f"COPY {name} (id, note) FROM STDIN") as copy:
            copy.write(_sbcp([[("id", "4")]])[:-1])
    assert_usable(conn)
