"""Mapping ERROR frames to the PEP 249 hierarchy (REFERENCE 9, 12.A.11)."""
import pytest

import scratchbird
from scratchbird import errors


def test_hierarchy():
    assert issubclass(scratchbird.Error, Exception)
    assert issubclass(scratchbird.Warning, Exception)
    for name in ("InterfaceError", "DatabaseError"):
        assert issubclass(getattr(scratchbird, name), scratchbird.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError",
                 "ProgrammingError", "NotSupportedError"):
        assert issubclass(getattr(scratchbird, name), scratchbird.DatabaseError)


@pytest.mark.parametrize("sqlstate,cls", [
    ("08P01", errors.OperationalError), ("0A000", errors.NotSupportedError),
    ("22000", errors.DataError), ("23505", errors.IntegrityError),
    ("28000", errors.AuthenticationError), ("40001", errors.TransactionRollbackError),
    ("25000", errors.TransactionRollbackError), ("42601", errors.ProgrammingError),
    ("53000", errors.OperationalError), ("54000", errors.OperationalError),
    ("57014", errors.QueryCanceledError), ("58000", errors.OperationalError),
    ("XX000", errors.InternalError), ("34000", errors.ProgrammingError),
])
def test_sqlstate_classes(sqlstate, cls):
    err = errors.error_from_fields({"S": "ERROR", "C": sqlstate, "M": "boom"})
    assert type(err) is cls and err.sqlstate == sqlstate and err.message == "boom"


@pytest.mark.parametrize("code,cls", [
    ("SB-BULK-CONSTRAINT-UNIQUE-PERSISTED-CONFLICT", errors.IntegrityError),
    ("SB-BULK-CONSTRAINT-UNIQUE-DUPLICATE-BATCH", errors.IntegrityError),
    ("SBLR.DIVIDE_BY_ZERO", errors.DataError),
    ("SBLR.NUMERIC_OVERFLOW", errors.DataError),
    ("SECURITY.AUTHENTICATION.FAILED", errors.OperationalError),
    ("SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE", errors.ProgrammingError),
    ("SB_ENGINE_API_INVALID_REQUEST", errors.ProgrammingError),
])
def test_engine_codes_refine_42000(code, cls):
    err = errors.error_from_fields({"S": "ERROR", "C": "42000",
                                    "M": "The engine rejected the admitted SBLR envelope.",
                                    "D": code + ";some detail"})
    assert type(err) is cls
    assert err.diag_code == code and err.detail == "some detail"
    assert err.message == "The engine rejected the admitted SBLR envelope."


def test_wire_refusal_has_code_in_m():
    # REFERENCE 9.1: wire-layer refusals put the code in M and the text in D (capture 11)
    err = errors.error_from_fields({"C": "25001", "M": "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION",
                                    "D": "reset_session requires rollback_open_transaction"})
    assert err.diag_code == "NATIVE_WIRE.RESET_REFUSED_OPEN_TRANSACTION"
    assert err.message.startswith("reset_session requires")
    assert isinstance(err, errors.TransactionRollbackError)


def test_plain_text_message_without_code():
    err = errors.error_from_fields({"C": "28000", "M": "authentication required"})
    assert err.diag_code is None and err.message == "authentication required"
    assert "28000" in str(err)


def test_str_shows_code_and_detail():
    err = errors.error_from_fields({"C": "42000", "M": "relation not found",
                                    "D": "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"})
    text = str(err)
    assert "relation not found" in text and "42000" in text and "NAME_RESOLUTION" in text
    assert err.fields["D"] == "SBSQL.NAME_RESOLUTION.NOT_FOUND_OR_NOT_VISIBLE"


def test_position_and_hint_when_sent():
    err = errors.error_from_fields({"C": "42601", "M": "syntax", "P": "17", "H": "check it"})
    assert err.position == 17 and err.hint == "check it" and "HINT: check it" in str(err)
