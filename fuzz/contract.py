"""The contract every harness checks on every input.

1. Only exceptions of the PEP 249 hierarchy (``scratchbird.errors.Error``) escape a
   parser: anything else (ValueError, struct.error, IndexError, ...) is a finding.
2. The compiled and pure twins agree: the same value, or the same exception class.

A finding raises ``ContractViolation``; atheris reports it as a crash and writes the
input to ``crash-*`` for a regression test. Hangs are libFuzzer's ``-timeout``.
"""
from __future__ import annotations

import math
from decimal import Decimal

__all__ = ["ContractViolation", "Outcome", "outcome", "check_twins", "comparable"]


class ContractViolation(AssertionError):
    """A harness input broke the contract (the message says how)."""


class Outcome:
    """What one call did: returned ``value`` or raised an Error of class ``error``."""

    __slots__ = ("value", "error", "message")

    def __init__(self, value=None, error=None, message=""):
        self.value = value
        self.error = error
        self.message = message

    def __repr__(self):
        if self.error is not None:
            return f"raised {self.error.__name__}: {self.message[:200]}"
        return f"returned {self.value!r:.300}"


def known_escapes():
    """Exception classes tolerated from internal surfaces: ``MessageFormatError`` (a
    ValueError) is what the payload parsers raise; ClientProtocol turns it into
    ProtocolError (issue 7, tests/test_fuzz_findings.py), but the SCRAM harness calls the
    parsers of _auth_messages directly, below that conversion."""
    from scratchbird._client_messages import MessageFormatError
    from scratchbird.errors import Error

    if issubclass(MessageFormatError, Error):
        return ()
    return (MessageFormatError,)


def outcome(call, *args, **kwargs) -> Outcome:
    """Run ``call``; an Error becomes an Outcome, any other exception a violation."""
    from scratchbird.errors import Error

    try:
        return Outcome(value=comparable(call(*args, **kwargs)))
    except Error as exc:
        return Outcome(error=type(exc), message=str(exc))
    except known_escapes() as exc:
        return Outcome(error=type(exc), message=str(exc))
    except RecursionError:
        raise
    except Exception as exc:
        raise ContractViolation(
            f"{getattr(call, '__qualname__', call)} let {type(exc).__name__} escape "
            f"(not a scratchbird.errors.Error): {exc}") from exc


def comparable(value):
    """``value`` with views copied and NaNs made equal, so twins' results compare with ==."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float) and math.isnan(value):
        return ("nan", math.copysign(1.0, value))
    if isinstance(value, Decimal) and value.is_nan():
        return ("decimal-nan", str(value))
    if isinstance(value, (list, tuple)):
        return type(value)(comparable(v) for v in value)
    if isinstance(value, dict):
        return {comparable(k): comparable(v) for k, v in value.items()}
    return value


def check_twins(label: str, pure: Outcome, compiled: Outcome) -> Outcome:
    """The pure twin's outcome, after checking the compiled twin did the same."""
    if pure.error is not None or compiled.error is not None:
        if pure.error is not compiled.error:
            raise ContractViolation(f"{label}: twins disagree: pure {pure!r}, compiled {compiled!r}")
        return pure
    if pure.value != compiled.value or type(pure.value) is not type(compiled.value):
        raise ContractViolation(f"{label}: twins disagree: pure {pure!r}, compiled {compiled!r}")
    return pure
