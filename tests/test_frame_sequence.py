"""The server frame sequence check (REFERENCE 2, 0 item 12; docs/protocol.md 11.2).

Every frame the server sends carries a per-connection counter from 0, one up per frame.
The client's FrameReader (both twins, and the compiled DATA_ROW scanner that reads
frames without ``next_frame``) refuses a gap or a repeat with a ProtocolError naming the
expected and received numbers. The dev server must keep the counter exact on every path:
the end-to-end tests record the raw bytes a live connection receives and check them.
"""
from __future__ import annotations

import itertools
import uuid

import pytest

import scratchbird
from scratchbird import _constants as c
from scratchbird._compiled import framing as c_framing
from scratchbird._compiled import rowcodec as c_rowcodec
from scratchbird._pure import framing as py_framing
from scratchbird._pure import rowcodec as py_rowcodec
from scratchbird.devserver import DevServer
from scratchbird.errors import ProtocolError

TWINS = [pytest.param((py_framing, py_rowcodec), id="python"),
         pytest.param((c_framing, c_rowcodec), id="c")]


def data_rows(first, values):
    return b"".join(py_framing.encode_frame(c.DATA_ROW, py_rowcodec.encode_data_row((v,)), first + k)
                    for k, v in enumerate(values))


# ---------------------------------------------------------------- the reader, both twins


@pytest.mark.parametrize("twin", TWINS)
def test_off_by_default_and_counts_from_where_it_is_set(twin):
    framing, _ = twin
    reader = framing.FrameReader()
    assert reader.expected_sequence is None
    reader.feed(py_framing.encode_frame(c.READY, b"", 7))
    assert reader.next_frame().sequence == 7          # not checked
    reader.expected_sequence = 3
    reader.feed(py_framing.encode_frame(c.READY, b"", 3) + py_framing.encode_frame(c.READY, b"", 4))
    assert [reader.next_frame().sequence for _ in range(2)] == [3, 4]
    assert reader.expected_sequence == 5
    for bad in (-1, 1 << 32, 1.0, True, "0"):
        with pytest.raises(ValueError, match="expected_sequence"):
            reader.expected_sequence = bad


@pytest.mark.parametrize("twin", TWINS)
@pytest.mark.parametrize("got,case", [(2, "gap"), (0, "repeat"), (1 << 31, "flipped bit")])
def test_gap_or_repeat_names_both_numbers(twin, got, case):
    framing, _ = twin
    reader = framing.FrameReader()
    reader.expected_sequence = 0
    reader.feed(py_framing.encode_frame(c.READY, b"", 0))
    reader.next_frame()
    reader.feed(py_framing.encode_frame(c.READY, b"x", got)[:40])      # the header is enough
    with pytest.raises(ProtocolError, match=f"sequence {got} where 1 was expected"):
        reader.next_frame()
    assert reader.buffered == 40                      # left in place, as a bad header is


@pytest.mark.parametrize("twin", TWINS)
def test_wraps_modulo_two_to_the_32(twin):
    framing, rowcodec = twin
    reader = framing.FrameReader()
    reader.expected_sequence = 0xFFFFFFFE
    reader.feed(data_rows(0xFFFFFFFE, [b"a", b"b"]) + data_rows(0, [b"c"]))
    rows = []
    assert rowcodec.read_data_rows(reader, rowcodec.TextRowDecoder([25]), rows, 10) == 3
    assert rows == [("a",), ("b",), ("c",)] and reader.expected_sequence == 1


@pytest.mark.parametrize("split", [None, 1, 45, 97])
@pytest.mark.parametrize("twin", TWINS)
def test_the_row_scanner_checks_every_data_row(twin, split):
    """read_data_rows decodes DATA_ROWs in place (compiled: without next_frame); a
    duplicated row stops it with the reader's error and the rows before it kept."""
    framing, rowcodec = twin
    stream = data_rows(0, [b"r0", b"r1", b"r2"]) + data_rows(2, [b"r2"])   # row 2 twice
    reader = framing.FrameReader()
    reader.expected_sequence = 0
    chunks = [stream] if split is None else [stream[i:i + split] for i in range(0, len(stream), split)]
    for chunk in chunks:
        reader.feed(chunk)
    rows = []
    with pytest.raises(ProtocolError, match="sequence 2 where 3 was expected"):
        rowcodec.read_data_rows(reader, rowcodec.TextRowDecoder([25]), rows, 100)
    assert rows == [("r0",), ("r1",), ("r2",)] and reader.expected_sequence == 3


@pytest.mark.parametrize("twin", TWINS)
def test_consume_moves_the_count_by_the_frames_a_scanner_read(twin):
    framing, _ = twin
    reader = framing.FrameReader()
    reader.feed(data_rows(0, [b"a", b"b"]))
    reader.expected_sequence = 0
    reader.consume(len(data_rows(0, [b"a"])), 1)
    assert reader.expected_sequence == 1 and reader.next_frame().sequence == 1


# ---------------------------------------------------------------- the dev server's counter


class ReceivedFrames:
    """Records the raw bytes a live connection receives from now on."""

    def __init__(self, conn) -> None:
        self.proto = conn._proto
        self.first = self.proto.reader.expected_sequence
        self.data = []
        # At the transport: the connection hands received chunks to the protocol by
        # more than one way (proto.feed, responsecodec.receive).
        transport = conn._transport
        original = transport.recv

        def recv():
            data = original()
            self.data.append(bytes(data))
            return data

        transport.recv = recv

    def sequences(self):
        reader = py_framing.FrameReader(check_flags=False)   # compressed frames stay so
        reader.feed(b"".join(self.data))
        out = []
        while (frame := reader.next_frame()) is not None:
            out.append(frame.sequence)
        return out

    def assert_consecutive(self):
        seqs = self.sequences()
        assert seqs == list(range(self.first, self.first + len(seqs))), seqs
        assert self.proto.reader.expected_sequence == self.first + len(seqs)
        return len(seqs)


_names = itertools.count(1)


def every_path(conn, profile):
    """Queries, a streamed fetch, prepared statements, executemany, COPY (the form the
    connection negotiated), a CANCEL whose reply comes after the request."""
    cur = conn.cursor()
    table = f"seq_t{next(_names)}"
    cur.execute(f"CREATE TABLE {table} (id INTEGER, s VARCHAR)")
    cur.execute("SELECT i FROM range(3000) r(i)")
    assert len(cur.fetchall()) == 3000
    stream = conn.cursor(stream=True)
    stream.itersize = 100
    stream.execute("SELECT i FROM range(1000) r(i)")
    assert sum(1 for _ in stream) == 1000
    cur.executemany(f"INSERT INTO {table} VALUES (?, ?)", [(i, f"s{i}") for i in range(50)])
    if profile == "sbsql":
        cur.execute(f"SELECT s FROM {table} WHERE id = ?", (7,), prepare=True)
        assert cur.fetchall() == [("s7",)]
    with cur.copy(f"COPY {table} (id, s) FROM STDIN") as copy:    # binary or text form
        for i in range(100, 401):
            copy.write_row((i, f"c{i}"))
    proto = conn._proto
    with conn._control.send_lock:
        conn._transport.send(proto.cancel_frame(uuid.uuid4().bytes, proto.session_id))
    cur.execute(f"SELECT count(*) FROM {table}")
    assert cur.fetchall() == [(351,)]
    assert proto.cancel_outcomes


@pytest.mark.parametrize("options", [{}, {"binary_copy": False}, {"compression": "zstd"}],
                         ids=["binary-copy", "text-copy", "zstd"])
def test_dev_server_numbers_every_frame_on_every_path(devserver, profile, options):
    if "compression" in options and profile == "sbsql":
        pytest.skip("zstd is negotiated only in the full profile (docs/protocol.md 3.1)")
    with scratchbird.connect(devserver.dsn, **options) as conn:
        frames = ReceivedFrames(conn)
        every_path(conn, profile)
        assert frames.assert_consecutive() > 50


def test_replayed_cached_results_are_renumbered():
    """The result cache (devserver/_cache.py) keeps whole frames, sequence numbers
    included, and must restamp them for the session it replays them to."""
    with DevServer(user="sb", password="seq-pw", tls="off", cache_results=True) as server:
        for _ in range(3):      # the first run fills the cache, the next ones replay it
            with scratchbird.connect(server.dsn) as conn:
                frames = ReceivedFrames(conn)
                for _ in range(3):
                    cur = conn.cursor()
                    cur.execute("SELECT i, 'x' || i FROM range(500) r(i) ORDER BY i")
                    assert len(cur.fetchall()) == 500
                frames.assert_consecutive()
        assert server.result_cache.hits >= 6
