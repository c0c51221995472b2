"""Client-side statement splitting: which statements a QUERY carries, and how each begins.

The server splits a multi-statement QUERY at top-level ``;`` (REFERENCE 4.1) and answers each
statement in turn. To treat each answer by what was asked (``_reports``), the driver splits the
same text the same way: ``;`` inside '...', "...", E'...', $tag$...$tag$, -- and /* */ comments
does not end a statement. The quoting rules are the literals scanner's (``_pure/literals.py``,
whose helpers this module reuses); this runs once per request, so plain Python is enough.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import List, NamedTuple, Tuple

from scratchbird._pure.literals import (_DOLLAR_TAG, _IDENTIFIER, _end_of_block_comment,
                                        _end_of_e_string, _end_of_quoted)

__all__ = ["Statement", "split_statements", "leading_keyword"]

# Runs that neither open a quote or comment nor end a statement, skipped in one step
# (as ``literals._PLAIN``, with ';' added and the placeholder characters removed).
_PLAIN = re.compile(
    "(?:[^'\"\\-/$;A-Za-z_\x80-\U0010ffff]+|-(?!-)|/(?!\\*)|(?![Ee]')" + _IDENTIFIER + ")+")
_LINE_END = re.compile("[\r\n]")
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\r\n]*(?:\r?\n|\Z)|/\*.*?\*/|\()*", re.S)
_WORD = re.compile(r"[A-Za-z_]+")


class Statement(NamedTuple):
    text: str        # the statement, stripped, without its ';'
    keyword: str     # its first word, upper-cased ("" for none)


def leading_keyword(text: str) -> str:
    """The statement's first word, upper-cased, after whitespace, comments and '('."""
    noise = _LEADING_NOISE.match(text)
    assert noise is not None        # the pattern matches the empty string
    m = _WORD.match(text, noise.end())
    return m.group().upper() if m else ""


def _has_content(text: str) -> bool:
    noise = _LEADING_NOISE.match(text)
    assert noise is not None        # the pattern matches the empty string
    return noise.end() < len(text)


@lru_cache(maxsize=256)
def split_statements(sql: str) -> Tuple[Statement, ...]:
    """The statements of ``sql`` in order. Empty ones (only whitespace, comments or ';')
    are dropped, as the server drops them; SQL with none gives one empty statement (the
    server answers it with ``EMPTY``, REFERENCE 4.2). A repeated statement is not scanned
    again (the last 256 texts are kept)."""
    out: List[Statement] = []
    n = len(sql)
    start = i = 0
    while True:
        plain = _PLAIN.match(sql, i)
        if plain is not None:
            i = plain.end()
        if i >= n:
            break
        ch = sql[i]
        if ch == ";":
            _add(out, sql[start:i])
            start = i = i + 1
        elif ch == "'" or ch == '"':
            i = _end_of_quoted(sql, i + 1, ch)
        elif ch == "-":
            line_end = _LINE_END.search(sql, i)
            i = n if line_end is None else line_end.end()
        elif ch == "/":
            i = _end_of_block_comment(sql, i + 2)
        elif ch == "$":
            tag = _DOLLAR_TAG.match(sql, i)
            if tag is None:
                i += 1
            else:
                close = sql.find(tag.group(), tag.end())
                i = n if close < 0 else close + len(tag.group())
        else:  # E or e right before a quote
            i = _end_of_e_string(sql, i + 2)
    _add(out, sql[start:])
    return tuple(out) or (Statement("", ""),)


def _add(out: List[Statement], text: str) -> None:
    text = text.strip()
    if text and _has_content(text):
        out.append(Statement(text, leading_keyword(text)))
