"""Regenerate tests/data/reference_vectors.json from REFERENCE.md (run by hand, not by CI).

    python tests/data/make_reference_vectors.py PATH/TO/REFERENCE.md

Every hex dump of REFERENCE section 11 and the full-frame dumps of section 12.B, read with
``tests/sbwp_material.py``'s parser, each with the section it comes from. The tests read only
the JSON, so a clone needs nothing from outside the repository. Copy the captures with them:
``cp <shared>/sbwp/captures/* tests/data/captures/``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from tests.sbwp_material import dump_to_json, parse_reference_markdown  # noqa: E402


def main(reference: str) -> None:
    path = Path(reference)
    dumps = parse_reference_markdown(path)
    doc = {
        "source": "REFERENCE.md (SBWP v1.1 implementer's reference), sections 11 and 12.B",
        "source_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "generator": "tests/data/make_reference_vectors.py",
        "vectors": [dump_to_json(d) for d in dumps.values()],
    }
    out = HERE / "reference_vectors.json"
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{len(dumps)} vectors -> {out}")


if __name__ == "__main__":
    # The path is required: a default would point outside the repository, and nothing in the
    # repository (least of all the suite) may read from there.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", help="path to the SBWP REFERENCE.md to read the dumps from")
    main(parser.parse_args().reference)
