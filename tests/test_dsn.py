"""DSN parsing: URI and key=value forms, keyword overrides, validation."""
import pytest

import scratchbird
from scratchbird._dsn import DEFAULT_PORT, make_params


def test_uri_with_everything():
    p = make_params("scratchbird://sb:secret@db.example:3093/demo?sslmode=verify-full"
                    "&sslrootcert=/tmp/ca.pem&connect_timeout=3&application_name=app")
    assert (p.host, p.port, p.database, p.user, p.password) == ("db.example", 3093, "demo", "sb", "secret")
    assert p.sslmode == "verify-full" and p.sslrootcert == "/tmp/ca.pem"
    assert p.connect_timeout == 3.0 and p.application_name == "app"


def test_uri_percent_decoding_and_ipv6():
    p = make_params("scratchbird://us%40er:p%3Ass%2Fw%20d@[::1]:4000/my%20db")
    assert p.user == "us@er" and p.password == "p:ss/w d"
    assert p.host == "::1" and p.port == 4000 and p.database == "my db"


def test_uri_defaults():
    p = make_params("scratchbird://localhost")
    assert p.port == DEFAULT_PORT == 3092
    assert p.sslmode == "prefer" and p.database == "default"


def test_keyvalue_form_with_quotes():
    p = make_params("host=h1 port=5000 dbname='my db' user=alice password='it\\'s'")
    assert (p.host, p.port, p.database, p.user, p.password) == ("h1", 5000, "my db", "alice", "it's")


def test_keywords_override_dsn():
    p = make_params("scratchbird://a:b@h:1/d?sslmode=require", host="other", port=2, sslmode="disable")
    assert (p.host, p.port, p.sslmode, p.user) == ("other", 2, "disable", "a")


@pytest.mark.parametrize("dsn", [
    "scratchbird://h/db?nosuchkey=1",
    "host=h bogus=1",
])
def test_unknown_key_is_programming_error(dsn):
    with pytest.raises(scratchbird.ProgrammingError, match="nosuchkey|bogus"):
        make_params(dsn)


def test_unknown_keyword_argument():
    with pytest.raises(scratchbird.ProgrammingError, match="colour"):
        make_params(None, colour="blue")


@pytest.mark.parametrize("key,value,match", [
    ("port", "notaport", "port"),
    ("port", "70000", "out of range"),
    ("sslmode", "sometimes", "sslmode"),
    ("connect_timeout", "soon", "seconds"),
    ("binary_transfer", "maybe", "boolean"),
    ("compression", "lz4", "compression"),
])
def test_bad_values(key, value, match):
    with pytest.raises(scratchbird.ProgrammingError, match=match):
        make_params(f"scratchbird://h/db?{key}={value}")


def test_every_driver_spec_key_is_accepted():
    keys = dict(host="h", port="1", database="d", user="u", password="p", sslmode="require",
                sslrootcert="r", sslcert="c", sslkey="k", connect_timeout="1", socket_timeout="2",
                application_name="a", search_path="s", binary_transfer="false", compression="zstd")
    p = make_params("host=x " + " ".join(f"{k}={v}" for k, v in keys.items()))
    assert p.binary_transfer is False and p.compression == "zstd" and p.socket_timeout == 2.0


def test_password_never_in_repr():
    p = make_params("scratchbird://sb:hunter2-secret@h/db")
    assert "hunter2-secret" not in repr(p)
    assert "hunter2-secret" not in str(p)


def test_null_markers_option():
    assert make_params(None, null_markers=["<NULL>"]).null_markers == (b"<NULL>",)
    assert make_params(None, null_markers=[]).null_markers == ()
