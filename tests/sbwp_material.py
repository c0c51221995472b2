"""Readers for the SBWP material in tests/data: the REFERENCE.md hex dumps and the captures.

Nothing here knows the driver: the helpers only turn the documents into bytes, so the
tests can hold the driver's encoders and parsers against them.

Hex dumps (REFERENCE section 11, and the full-frame dumps of section 12.B) are keyed by
where they stand: ``"11.8"`` for the only dump of 11.8, ``"11.21"``, ``"11.21b"``,
``"11.21c"``, ... for the first, second, third dump of a subsection, and
``"12.B.5"`` / ``"12.B.7.11"`` for section 12 (topic 5; topic 7, list item 11).
Placeholders such as ``<16-byte session uuid>`` and ``..`` bytes cannot be known from
the text: they are filled with a substitute (zeros unless given) and listed in the
dump's ``masked`` ranges, which comparisons must skip.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Tuple

HEADER_SIZE = 40
MAGIC = b"SBWP"

# The session UUID every section-11 example uses (REFERENCE 11, first paragraph).
SECTION11_SESSION = bytes.fromhex("018f0a2b3c4d7e5f8a6b7c8d9e0fa1b2")

_DUMP_LINE = re.compile(r"^\s*([0-9a-fA-F]{4})  (.*)$")
_HEX_BYTE = re.compile(r"^(?:[0-9a-fA-F]{2}|\.\.)$")
_PLACEHOLDER = re.compile(r"<([^>]*)>")
_FRAME_LENGTH = re.compile(r"Frame length (\d+) bytes \(40-byte header \+ (\d+)-byte payload\)")


@dataclass
class HexDump:
    """One hex dump from REFERENCE.md."""

    key: str                      # "11.21b", "12.B.5", ...
    section: str                  # "11.21", "12.B.5", ...
    title: str                    # the subsection heading (or the section-12 lead-in)
    context: str                  # the prose line just before the dump
    data: bytes                   # the bytes, placeholders filled with a substitute
    masked: List[Tuple[int, int]] = field(default_factory=list)  # [start, end) unknown ranges
    start_offset: int = 0         # the offset of the first dump line (0 for whole frames)
    stated_frame_length: Optional[int] = None    # "Frame length N bytes" of the subsection
    stated_payload_length: Optional[int] = None
    ascii_mismatches: List[str] = field(default_factory=list)  # lines whose |ascii| disagrees

    @property
    def is_frame(self) -> bool:
        """True when the dump is a whole frame starting with the header."""
        return self.start_offset == 0 and self.data[:4] == MAGIC

    @property
    def payload(self) -> bytes:
        """The bytes from frame offset 40 on (a dump may start after offset 0)."""
        return self.data[max(0, HEADER_SIZE - self.start_offset):]

    def header_field(self, name: str):
        """A header field read straight from the bytes (no driver code involved)."""
        d = self.data
        return {
            "magic": d[0:4], "major": d[4], "minor": d[5], "type": d[6], "flags": d[7],
            "length": int.from_bytes(d[8:12], "little"),
            "sequence": int.from_bytes(d[12:16], "little"),
            "attachment": d[16:32], "txn_id": int.from_bytes(d[32:40], "little"),
        }[name]

    def masked_equal(self, other: bytes) -> bool:
        """``other`` equals the dump everywhere except the masked ranges."""
        return mask_bytes(self.data, self.masked) == mask_bytes(bytes(other), self.masked)


def mask_bytes(data: bytes, ranges) -> bytes:
    out = bytearray(data)
    for start, end in ranges:
        out[start:end] = bytes(max(0, min(end, len(out)) - start))
    return bytes(out)


def parse_dump_lines(lines: List[str], substitute: Optional[bytes] = None):
    """Turn dump lines (``0010  01 8f ... |ascii|``) into pieces of bytes.

    Returns a list of ``(start_offset, data, masked, ascii_mismatches)``, one per run of lines with
    increasing offsets (a block can hold several dumps that restart their offsets, as
    in 12.B.1). A ``<placeholder>`` line stands for 16 bytes (the session UUID): it is
    replaced by ``substitute`` when given and masked otherwise; ``..`` is one unknown byte.
    """
    pieces = []
    data = bytearray()
    masked: List[Tuple[int, int]] = []
    mismatches: List[str] = []
    start = None
    for raw in lines:
        m = _DUMP_LINE.match(raw)
        if not m:
            continue
        offset = int(m.group(1), 16)
        rest = m.group(2)
        if start is not None and offset < start + len(data):
            pieces.append((start, bytes(data), masked, mismatches))
            data, masked, mismatches, start = bytearray(), [], [], None
        if start is None:
            start = offset
        if offset != start + len(data):
            raise ValueError(f"hex dump line at {offset:#06x} does not follow byte {start + len(data):#06x}")
        if _PLACEHOLDER.match(rest.lstrip()):
            # "<16-byte session uuid>" / "<session uuid>": the 16 bytes of the UUID slot
            if substitute is not None:
                data += substitute
            else:
                masked.append((len(data), len(data) + 16))
                data += bytes(16)
            continue
        text, bar, ascii_column = rest.partition("|")
        line_bytes = bytearray()
        for token in text.split():
            if not _HEX_BYTE.match(token):
                break  # trailing prose after the bytes (12.B.1 annotates its lines)
            if token == "..":
                masked.append((len(data) + len(line_bytes), len(data) + len(line_bytes) + 1))
                line_bytes.append(0)
            else:
                line_bytes.append(int(token, 16))
        if bar:
            # the dump's own ASCII rendering must agree with its hex bytes
            shown = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in line_bytes)
            if ascii_column.rstrip().rstrip("|") != shown:
                mismatches.append(raw.strip())
        data += line_bytes
    if start is not None:
        pieces.append((start, bytes(data), masked, mismatches))
    return pieces


def _merge(ranges):
    out: List[List[int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [tuple(r) for r in out]


def _suffix(index: int) -> str:
    return "" if index == 0 else "bcdefghij"[index - 1]


def _code_blocks(lines: List[str], first: int, last: int):
    """``(line_index, block_lines)`` of each fenced block in lines[first:last]."""
    i = first
    while i < last:
        if lines[i].strip().startswith("```"):
            j = i + 1
            while j < last and not lines[j].strip().startswith("```"):
                j += 1
            yield i, lines[i + 1:j]
            i = j + 1
        else:
            i += 1


def _prose_before(lines: List[str], index: int) -> str:
    """The nearest non-empty prose line above line ``index``, skipping fenced blocks."""
    j = index - 1
    while j >= 0:
        text = lines[j].strip()
        if text.startswith("```"):
            j -= 1
            while j >= 0 and not lines[j].strip().startswith("```"):
                j -= 1
        elif text:
            return text
        j -= 1
    return ""


def load_reference_dumps(reference: Path) -> Dict[str, HexDump]:
    """Every hex dump of REFERENCE section 11 and the full-frame dumps of section 12.B.

    ``reference`` is either the committed vectors (``tests/data/reference_vectors.json``,
    what the tests read) or REFERENCE.md itself (what ``tests/data/make_reference_vectors.py``
    parses to write them).
    """
    if Path(reference).suffix == ".json":
        return load_reference_vectors(reference)
    return parse_reference_markdown(reference)


def dump_to_json(dump: HexDump) -> dict:
    return {"key": dump.key, "section": dump.section, "title": dump.title,
            "context": dump.context, "hex": dump.data.hex(),
            "masked": [list(r) for r in dump.masked], "start_offset": dump.start_offset,
            "stated_frame_length": dump.stated_frame_length,
            "stated_payload_length": dump.stated_payload_length,
            "ascii_mismatches": dump.ascii_mismatches}


def load_reference_vectors(path: Path) -> Dict[str, HexDump]:
    """The JSON vectors written by ``tests/data/make_reference_vectors.py``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {v["key"]: HexDump(v["key"], v["section"], v["title"], v["context"],
                              bytes.fromhex(v["hex"]), [tuple(r) for r in v["masked"]],
                              v["start_offset"], v["stated_frame_length"],
                              v["stated_payload_length"], list(v["ascii_mismatches"]))
            for v in raw["vectors"]}


def parse_reference_markdown(reference: Path) -> Dict[str, HexDump]:
    """Parse the dumps out of REFERENCE.md.

    Section 11 examples get the section's session UUID; section 12 placeholders are
    masked (the text does not say which session they came from).
    """
    lines = Path(reference).read_text(encoding="utf-8").splitlines()
    dumps: Dict[str, HexDump] = {}

    # ---- section 11: "### 11.N title" up to the next "## " / "### " heading
    heads = [(i, m.group(1), m.group(2)) for i, line in enumerate(lines)
             for m in [re.match(r"^### (11\.\d+) (.*)$", line)] if m]
    for n, (i, section, title) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else next(
            k for k in range(i + 1, len(lines)) if lines[k].startswith("## "))
        body = "\n".join(lines[i:end])
        stated = _FRAME_LENGTH.search(body)
        count = 0
        for at, block in _code_blocks(lines, i + 1, end):
            for start, data, masked, bad in parse_dump_lines(block, SECTION11_SESSION):
                key = section + _suffix(count)
                dumps[key] = HexDump(
                    key, section, title, _prose_before(lines, at), data, _merge(masked), start,
                    int(stated.group(1)) if stated and count == 0 else None,
                    int(stated.group(2)) if stated and count == 0 else None, bad)
                count += 1

    # ---- section 12.B: "#### N. Topic"; inside a topic, numbered list items "N. **...**"
    start12 = next(i for i, line in enumerate(lines) if line.startswith("### 12.B."))
    end12 = next((i for i in range(start12 + 1, len(lines)) if lines[i].startswith("### ")),
                 len(lines))
    topic = None
    item = None
    counts: Dict[str, int] = {}
    i = start12
    while i < end12:
        line = lines[i]
        m = re.match(r"^#### (\d+)\. (.*)$", line)
        if m:
            topic, item = m.group(1), None
            i += 1
            continue
        m = re.match(r"^(\d+)\. \*\*", line)
        if m and topic:
            item = m.group(1)
        if line.strip().startswith("```"):
            j = i + 1
            while j < end12 and not lines[j].strip().startswith("```"):
                j += 1
            block = lines[i + 1:j]
            section = f"12.B.{topic}" + (f".{item}" if item else "")
            for start, data, masked, bad in parse_dump_lines(block):
                if not data:
                    continue
                key = section + _suffix(counts.get(section, 0))
                counts[section] = counts.get(section, 0) + 1
                dumps[key] = HexDump(key, section, f"12.B topic {topic}",
                                     _prose_before(lines, i), data, _merge(masked), start,
                                     ascii_mismatches=bad)
            i = j + 1
            continue
        i += 1
    return dumps


def section11_keys(dumps: Dict[str, HexDump]) -> List[str]:
    return [k for k in dumps if k.startswith("11.")]


# ---------------------------------------------------------------- captures


@dataclass
class CapturedFrame:
    index: int                    # position in the capture's frame list
    dir: str                      # "c2s" or "s2c"
    msg_type: int
    name: str
    data: bytes                   # the whole frame
    note: str

    @property
    def payload(self) -> bytes:
        return self.data[HEADER_SIZE:]

    @property
    def sequence(self) -> int:
        return int.from_bytes(self.data[12:16], "little")

    @property
    def attachment(self) -> bytes:
        return self.data[16:32]

    @property
    def txn_id(self) -> int:
        return int.from_bytes(self.data[32:40], "little")


@dataclass
class Capture:
    file: str                     # "04_select_literals.json"
    number: str                   # "04"
    scenario: str
    user: str
    password: str
    layout: str                   # "p1" or "legacy"
    frames: List[CapturedFrame]

    @property
    def s2c(self) -> List[CapturedFrame]:
        return [f for f in self.frames if f.dir == "s2c"]

    @property
    def c2s(self) -> List[CapturedFrame]:
        return [f for f in self.frames if f.dir == "c2s"]

    def stream(self, direction: str) -> bytes:
        """The byte stream of one direction: the frames' bytes concatenated."""
        return b"".join(f.data for f in self.frames if f.dir == direction)


def split_frames(stream: bytes) -> Iterator[Tuple[int, bytes]]:
    """``(type, whole frame)`` for each frame of a byte stream (captures/README.md).

    Raises ValueError on bad magic or bytes left over, so a bad split cannot pass.
    """
    pos = 0
    while pos < len(stream):
        if len(stream) - pos < HEADER_SIZE:
            raise ValueError(f"{len(stream) - pos} bytes left over after the last frame")
        if stream[pos:pos + 4] != MAGIC:
            raise ValueError(f"no SBWP magic at stream offset {pos}")
        end = pos + HEADER_SIZE + int.from_bytes(stream[pos + 8:pos + 12], "little")
        if end > len(stream):
            raise ValueError(f"frame at offset {pos} runs past the end of the stream")
        yield stream[pos + 6], stream[pos:end]
        pos = end


def load_capture(path: Path) -> Capture:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    frames = []
    for i, f in enumerate(raw["frames"]):
        data = bytes.fromhex(f["hex"])
        frames.append(CapturedFrame(i, f["dir"], int(f["type"], 16), f["name"], data,
                                    f.get("note", "")))
    name = Path(path).name
    return Capture(name, name[:2], raw["scenario"], raw["user"], raw["password"],
                   raw["startup_layout"], frames)


def capture_files(captures: Path) -> List[Path]:
    return sorted(Path(captures).glob("[0-9][0-9]_*.json"))


def load_captures(captures: Path) -> Dict[str, Capture]:
    """All captures by number (``"01"`` ... ``"13"``)."""
    return {c.number: c for c in map(load_capture, capture_files(captures))}


# ---------------------------------------------------------------- capture notes
# The notes are human summaries written by the capture tool, independent of this
# driver; the tests cross-check the driver's parsers against them (the hex decides).

_KIND_OID = {"int64": 20, "text": 25, "bool": 16, "decimal": 1700}


def note_columns(note: str) -> List[Tuple[str, int, Optional[Tuple[int, int]]]]:
    """ROW_DESCRIPTION note -> ``[(name, oid, (family, code) or None)]``."""
    body = note.split("column(s): ", 1)[1]
    out = []
    for part in body.split(", "):
        m = re.fullmatch(r"(.*):(int64|text|bool|decimal)\((\d+),(\d+)\)", part)
        if m:
            out.append((m.group(1), _KIND_OID[m.group(2)], (int(m.group(3)), int(m.group(4)))))
            continue
        m = re.fullmatch(r"(.*):oid(\d+)", part)
        out.append((m.group(1), int(m.group(2)), None))
    return out


def note_values(note: str) -> List[Optional[str]]:
    """DATA_ROW note -> raw text values, None for ``<bitmap-NULL>``."""
    body = note.split(": ", 1)[1]
    body = re.sub(r"(?<=[\[ ])<bitmap-NULL>(?=[,\]])", "null", body)
    return json.loads(body)


def note_command_complete(note: str) -> Tuple[str, int]:
    m = re.search(r"tag='([^']*)' rows=(\d+) command_type=(\d+) last_insert_id=(\d+)", note)
    return m.group(1), int(m.group(2))


def note_error(note: str) -> Dict[str, str]:
    return {m.group(1): json.loads(m.group(2))
            for m in re.finditer(r'\b([A-Z])=("(?:[^"\\]|\\.)*")', note)}


def note_ready(note: str) -> Dict[str, int]:
    out = {k: int(v, 0) for k, v in re.findall(r"\b(txn|reason|epoch|features)=(0x[0-9a-f]+|\d+)", note)}
    m = re.search(r"status='(.)'", note)
    if m:
        out["status"] = ord(m.group(1))
    m = re.search(r"status=(\d+)", note)
    if m:
        out["status"] = int(m.group(1))
    return out


def note_parameters(note: str) -> Dict[str, str]:
    """PARAMETER_STATUS note ``N entries: k=v, k=v`` -> dict (in order)."""
    body = note.split("entries: ", 1)[1]
    parts = re.split(r", (?=[a-z_][a-z0-9_.]*=)", body)
    return dict(part.split("=", 1) for part in parts)


def note_header(note: str) -> Tuple[int, int]:
    """``[seq=N txn=T]`` of a server note."""
    m = re.match(r"\[seq=(\d+) txn=(\d+)\]", note)
    return int(m.group(1)), int(m.group(2))
