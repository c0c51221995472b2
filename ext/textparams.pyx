"""Parameter values as text BIND values for today's server (compiled twin).

Same names and behaviour as ``scratchbird._pure.textparams``, the readable reference
(read it for the rules, REFERENCE 5.2 and 8.6). ``text_row`` runs once per parameter set
in array-bound executemany, so None, bool, int64, finite float and str are converted in C;
every other value goes to the pure twin's ``text_value``, the one definition of the rules.
"""
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsLongLongAndOverflow
from cpython.unicode cimport PyUnicode_AsUTF8String
from libc.math cimport isfinite

from datetime import date as _date
from decimal import Decimal

from scratchbird._pure import textparams as _pure

__all__ = ["text_value", "text_row", "OID_BOOL", "OID_INT8", "OID_FLOAT8", "OID_NUMERIC",
           "OID_TEXT"]

OID_BOOL, OID_INT8, OID_FLOAT8, OID_NUMERIC, OID_TEXT = 16, 20, 701, 1700, 25
text_value = _pure.text_value

cdef object _TEXT = 25, _BOOL = 16, _INT8 = 20, _FLOAT8 = 701
cdef bytes _B_TRUE = b"TRUE", _B_FALSE = b"FALSE"
cdef tuple _EXACT = (type(None), bool, int, Decimal, str)
_float_repr = float.__repr__
_int_repr = int.__repr__
_date_iso = _date.isoformat


def text_row(values, bint exact_only=False):
    """``(oids, texts)`` for one parameter set, or None if a value needs the literal path."""
    cdef list oids = [], texts = []
    cdef object value, cls, item
    cdef int overflow
    cdef str text
    for value in values:
        cls = type(value)
        if value is None:
            oids.append(_TEXT)
            texts.append(None)
            continue
        if cls is bool:
            oids.append(_BOOL)
            texts.append(_B_TRUE if value is True else _B_FALSE)
            continue
        if cls is int:
            PyLong_AsLongLongAndOverflow(value, &overflow)
            if overflow == 0:
                oids.append(_INT8)
                texts.append(PyUnicode_AsUTF8String(_int_repr(value)))
                continue
        elif cls is str:
            if "\x00" not in <str>value:
                try:
                    texts.append(PyUnicode_AsUTF8String(value))
                except UnicodeEncodeError:      # a lone surrogate: the literal path says so
                    return None
                oids.append(_TEXT)
                continue
            return None
        elif cls is _date and not exact_only:      # DATE 'iso' in the pure twin
            oids.append(_TEXT)
            texts.append(PyUnicode_AsUTF8String(_date_iso(value)))
            continue
        elif cls is float and not exact_only:
            if isfinite(PyFloat_AS_DOUBLE(value)):
                oids.append(_FLOAT8)
                texts.append(PyUnicode_AsUTF8String(_float_repr(value)))
                continue
        if exact_only and not isinstance(value, _EXACT):
            return None
        item = _pure.text_value(value)
        if item is None:
            return None
        oids.append(item[0])
        texts.append(item[1])
    return tuple(oids), texts
