"""Driver-level checks of the v1.1 spec features against the dev server's ``full``
profile: negotiation, SCRAM, zstd, JSON parsing; and their absence against ``sbsql``."""
from __future__ import annotations

import pytest

import scratchbird
from scratchbird import _constants as c


def test_negotiation_follows_the_server(devserver, profile):
    with scratchbird.connect(devserver.dsn, compression="zstd") as conn:
        features = conn.info["negotiated_features"]
        if profile == "full":
            assert conn.binary_values and features & c.FEATURE_COMPRESSION
            assert conn._proto.auth_method == c.AUTH_METHOD_SCRAM_SHA_256
        else:   # today's server: text values, no compression, password auth
            assert not conn.binary_values and not features & c.FEATURE_COMPRESSION
            assert conn._proto.auth_method == c.AUTH_METHOD_PASSWORD
        rows = conn.execute("SELECT i, repeat('x', 500) AS pad FROM range(5000) t(i) ORDER BY i").fetchall()
        assert len(rows) == 5000 and rows[-1] == (4999, "x" * 500)
        big = "y" * 200_000
        assert conn.execute("SELECT :v AS v", {"v": big}).fetchone() == (big,)


def test_binary_transfer_false_keeps_text(devserver):
    with scratchbird.connect(devserver.dsn, binary_transfer=False) as conn:
        assert not conn.binary_values
        assert conn.execute("SELECT DATE '2024-01-02' AS d").fetchone() == ("2024-01-02",)


def test_json_values(devserver, profile):
    if profile != "full":
        pytest.skip("JSON travels as text in the sbsql profile (covered in test_dbapi)")
    with scratchbird.connect(devserver.dsn) as conn:
        assert conn.execute("SELECT '{\"a\": 1}'::JSON AS j").fetchone() == ('{"a": 1}',)
    with scratchbird.connect(devserver.dsn, parse_json=True) as conn:
        assert conn.execute("SELECT '{\"a\": [1, 2]}'::JSON AS j").fetchone() == ({"a": [1, 2]},)


def test_scram_wrong_password(devserver, profile):
    if profile != "full":
        pytest.skip("SCRAM exists only in the full profile")
    dsn = devserver.dsn.replace(":s3cret-pw@", ":wrong@")
    with pytest.raises(scratchbird.OperationalError) as info:
        scratchbird.connect(dsn)
    assert info.value.sqlstate.startswith("28") and "wrong" not in str(info.value)
