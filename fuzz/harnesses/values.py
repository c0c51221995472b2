"""The binary value decoders (bincodec.decode_value), one harness per type family.

Input: byte 0 picks a type of the family, the rest is the value's bytes. Seeds are the
encoding of one valid value of every type in the family.
"""
from __future__ import annotations

from fuzz.contract import check_twins, outcome
from fuzz.twins import twins

FAMILIES = {
    # family name -> type-id families (the first number of a type id, REFERENCE 8.8)
    "numeric": (1, 2, 3, 4, 5, 6, 7),
    "text": (8, 9, 10, 14, 18, 20, 30),
    "temporal": (11, 12),
    "network": (13, 19),
    "spatial": (21, 22),
    "nested": (15, 16, 17),
}


def _family_types(family):
    from fuzz.samples import samples

    return [(t, v) for t, v in samples() if t[0] in FAMILIES[family]]


def harness(family):
    """``(one_input, seeds)`` for one type family."""
    state = {}

    def types():
        if "types" not in state:
            state["types"] = [t for t, _ in _family_types(family)]
        return state["types"]

    def one_input(data: bytes) -> None:
        if not data:
            return
        pure, compiled = twins("bincodec")
        all_types = types()
        type_id = all_types[data[0] % len(all_types)]
        raw = data[1:]
        check_twins(f"decode_value{type_id}", outcome(pure.decode_value, type_id, raw),
                    outcome(compiled.decode_value, type_id, raw))

    def seeds():
        from scratchbird._pure import bincodec as B

        all_types = types()
        return [bytes([all_types.index(t)]) + B.encode_value(t, v) for t, v in _family_types(family)]

    return one_input, seeds
