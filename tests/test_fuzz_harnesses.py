"""Every fuzz harness (fuzz/harnesses) over its seeds and seeded mutations, without atheris.

This keeps the harnesses working between fuzz runs and replays, in the ordinary suite,
the contract they check (only scratchbird.errors.Error escapes; the twins agree). The
coverage-guided runs are `python -m fuzz` (fuzz/README.md).
"""
import random

import pytest

from fuzz.harnesses import HARNESSES, load


def mutations(seed: bytes, rng: random.Random, count: int):
    for _ in range(count):
        data = bytearray(seed)
        for _ in range(rng.randint(1, 4)):
            choice = rng.random()
            if data and choice < 0.4:
                data[rng.randrange(len(data))] = rng.randrange(256)
            elif data and choice < 0.7:
                cut = rng.randrange(len(data))
                del data[cut:cut + rng.randint(1, 16)]
            else:
                at = rng.randrange(len(data) + 1)
                data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        yield bytes(data)


@pytest.mark.parametrize("name", sorted(HARNESSES))
def test_harness_holds_its_contract_on_seeds_and_mutations(name):
    one_input, seeds = load(name)
    inputs = list(seeds())
    assert inputs, f"harness {name} has no seeds"
    rng = random.Random(name)
    budget = 20 if name in ("protocol", "scram") else 150
    for seed in inputs:
        one_input(seed)
        for data in mutations(seed, rng, max(2, budget // len(inputs))):
            one_input(data)
