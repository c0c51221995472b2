"""SQL text helpers for the dev server engine: statement splitting and light classification.

Nothing here parses SQL properly; DuckDB does that.  This module only has to

* split a script into statements at ``;`` while respecting ``'...'`` strings (``''`` escapes,
  ``E'...'`` backslash escapes), ``"..."`` identifiers, ``--`` and (nested) ``/* */`` comments
  and ``$tag$ ... $tag$`` dollar quotes, dropping empty and comment-only statements;
* tokenize one statement (comments and whitespace skipped) so the engine can find the first
  words, top-level keywords such as ``FROM`` or ``RETURNING``, an INSERT column list and the
  target of a DDL statement.

Everything is I/O free and pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, List, NamedTuple, Optional, Pattern, Tuple, cast

__all__ = [
    "Token",
    "StatementInfo",
    "split_statements",
    "iter_tokens",
    "classify",
]

# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------

# The "interesting" places for the splitter.  Everything between two matches is plain text the
# regex engine skips in C, which keeps splitting of multi-megabyte scripts fast.
_SPLIT_RE = re.compile(r"""[;'"$]|--|/\*""")
_STR_END_RE = re.compile(r"'[^']*(?:''[^']*)*'?")          # from the opening quote
_ESTR_END_RE = re.compile(r"'[^'\\]*(?:(?:\\.|'')[^'\\]*)*'?", re.S)
_QID_END_RE = re.compile(r'"[^"]*(?:""[^"]*)*"?')
_DOLLAR_TAG_RE = re.compile(r"\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$")
_COMMENT_EDGE_RE = re.compile(r"/\*|\*/")
_WORD_CHAR_RE = re.compile(r"[\w$]")
_PARAM_RE = re.compile(r"\$\d*")


def _end_of(pattern: Pattern[str], sql: str, pos: int) -> int:
    """End of ``pattern``'s match at ``pos``: the patterns passed here match wherever
    they are used (after an opening quote or ``$``), so the match is never None."""
    return cast("re.Match[str]", pattern.match(sql, pos)).end()


def _block_comment_end(sql: str, pos: int) -> int:
    """End offset of the (possibly nested) block comment that starts at ``pos``."""
    depth = 0
    for m in _COMMENT_EDGE_RE.finditer(sql, pos):
        if m.group() == "/*":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return m.end()
    return len(sql)


def _dollar_end(sql: str, pos: int) -> Optional[int]:
    """End offset of the dollar-quoted string starting at ``pos``, or None if ``$`` starts none."""
    if pos > 0 and _WORD_CHAR_RE.match(sql, pos - 1):
        return None                       # part of an identifier such as a$b
    m = _DOLLAR_TAG_RE.match(sql, pos)
    if m is None:
        return None                       # $1 parameter, lone $
    tag = m.group()
    close = sql.find(tag, m.end())
    return len(sql) if close < 0 else close + len(tag)


def _skip_quoted(sql: str, pos: int, ch: str) -> int:
    """End offset of the quoted token whose opening quote ``ch`` is at ``pos``."""
    if ch == '"':
        return _end_of(_QID_END_RE, sql, pos)
    # E'...' strings use backslash escapes; the E must be a token of its own.
    if pos > 0 and sql[pos - 1] in "eE" and (pos < 2 or not _WORD_CHAR_RE.match(sql, pos - 2)):
        return _end_of(_ESTR_END_RE, sql, pos)
    return _end_of(_STR_END_RE, sql, pos)


def split_statements(sql: str) -> List[str]:
    """Split ``sql`` at top-level ``;`` into statement texts (stripped).

    Empty statements and statements made only of whitespace and comments are dropped, so an
    empty script gives ``[]``.
    """
    out: List[str] = []
    n = len(sql)
    start = 0          # start of the current statement
    pos = 0
    content = False    # has the current statement anything but whitespace/comments?
    while True:
        m = _SPLIT_RE.search(sql, pos)
        end = m.start() if m is not None else n
        if not content and sql[pos:end].strip():
            content = True
        if m is None:
            break
        tok = m.group()
        if tok == ";":
            if content:
                out.append(sql[start:end].strip())
            start = pos = m.end()
            content = False
        elif tok == "--":
            nl = sql.find("\n", end)
            pos = n if nl < 0 else nl + 1
        elif tok == "/*":
            pos = _block_comment_end(sql, end)
        elif tok == "$":
            stop = _dollar_end(sql, end)
            content = True
            pos = end + 1 if stop is None else stop
        else:                                # ' or "
            content = True
            pos = _skip_quoted(sql, end, tok)
    if content:
        out.append(sql[start:].strip())
    return out


# ---------------------------------------------------------------------------------------------
# Tokenizing
# ---------------------------------------------------------------------------------------------


class Token(NamedTuple):
    kind: str      # "word", "qident", "string", "number", "param", "op"
    text: str      # words upper-cased; qidents unquoted; strings/ops verbatim
    depth: int     # parenthesis depth at the token ((, ) themselves are at the outer depth)
    raw: str       # the source text of the token


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lc>--[^\n]*)
  | (?P<bc>/\*)
  | (?P<estr>[eE](?='))
  | (?P<str>')
  | (?P<qid>")
  | (?P<dollar>\$)
  | (?P<param>\?)
  | (?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[^\W\d][\w$]*)
  | (?P<op>::|<>|<=|>=|!=|\|\||->>|->|.)
    """,
    re.X | re.S,
)


def iter_tokens(sql: str) -> Iterator[Token]:
    """Tokens of one statement, comments and whitespace skipped, with paren depth."""
    pos = 0
    n = len(sql)
    depth = 0
    while pos < n:
        m = _TOKEN_RE.match(sql, pos)
        if m is None:  # pragma: no cover - the op alternative matches any character
            break
        kind = cast(str, m.lastgroup)         # every alternative is a named group
        end = m.end()
        if kind == "ws" or kind == "lc":
            pos = end
            continue
        if kind == "bc":
            pos = _block_comment_end(sql, pos)
            continue
        if kind == "estr":
            stop = _end_of(_ESTR_END_RE, sql, pos + 1)
            raw = sql[pos:stop]
            yield Token("string", raw, depth, raw)
            pos = stop
            continue
        if kind == "str":
            stop = _end_of(_STR_END_RE, sql, pos)
            raw = sql[pos:stop]
            yield Token("string", raw, depth, raw)
            pos = stop
            continue
        if kind == "qid":
            stop = _end_of(_QID_END_RE, sql, pos)
            raw = sql[pos:stop]
            body = raw[1:-1] if len(raw) >= 2 and raw.endswith('"') else raw[1:]
            yield Token("qident", body.replace('""', '"'), depth, raw)
            pos = stop
            continue
        if kind == "dollar":
            quoted_end = _dollar_end(sql, pos)
            if quoted_end is None:
                stop = _end_of(_PARAM_RE, sql, pos)
                yield Token("param", sql[pos:stop], depth, sql[pos:stop])
            else:
                stop = quoted_end
                yield Token("string", sql[pos:stop], depth, sql[pos:stop])
            pos = stop
            continue
        raw = m.group()
        pos = end
        if kind == "word":
            yield Token("word", raw.upper(), depth, raw)
        elif kind == "op":
            if raw == "(":
                yield Token("op", raw, depth, raw)
                depth += 1
                continue
            if raw == ")":
                depth = max(0, depth - 1)
            yield Token("op", raw, depth, raw)
        else:
            yield Token(kind, raw, depth, raw)


# ---------------------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------------------

_QUERY_VERBS = frozenset(
    {"SELECT", "WITH", "VALUES", "FROM", "TABLE", "SHOW", "DESCRIBE", "DESC", "SUMMARIZE",
     "PIVOT", "UNPIVOT", "PIVOT_WIDER", "PIVOT_LONGER"}
)
_TABLE_READ_VERBS = frozenset({"FROM", "TABLE", "PIVOT", "UNPIVOT", "PIVOT_WIDER", "PIVOT_LONGER"})
_CREATE_MODIFIERS = frozenset(
    {"OR", "REPLACE", "TEMP", "TEMPORARY", "PERSISTENT", "UNIQUE", "GLOBAL", "LOCAL", "UNLOGGED",
     "TRANSIENT"}
)
_NAME_SKIP = frozenset({"IF", "NOT", "EXISTS", "ONLY", "CONCURRENTLY"})

#: statement kinds (StatementInfo.kind)
EMPTY, BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, ROLLBACK_TO, OTHER = (
    "empty", "begin", "commit", "rollback", "savepoint", "release", "rollback_to", "other")


@dataclass
class StatementInfo:
    """What the engine needs to know about one statement's text."""

    text: str
    kind: str                   # one of the module constants above
    verb: str                   # first word upper-cased ("" if the statement starts otherwise)
    tag_word: str               # COMMAND_COMPLETE tag for the "anything else" rule
    savepoint: str = ""         # savepoint name for SAVEPOINT/RELEASE/ROLLBACK TO
    _tokens: Optional[List[Token]] = field(default=None, repr=False)

    # -- lazily tokenized helpers -------------------------------------------------------------
    def tokens(self) -> List[Token]:
        if self._tokens is None:
            self._tokens = list(iter_tokens(self.text))
        return self._tokens

    @property
    def looks_like_query(self) -> bool:
        """First word says "row-returning query" (DuckDB has the final word)."""
        return self.verb in _QUERY_VERBS or self.text.startswith("(")

    def reads_table(self) -> bool:
        """Does the statement read a table: a top-level FROM clause, or FROM/TABLE/PIVOT first?"""
        if self.verb in _TABLE_READ_VERBS:
            return True
        prev = ""
        for tok in iter_tokens(self.text):
            if tok.depth == 0 and tok.kind == "word":
                if tok.text == "FROM" and prev != "DISTINCT":   # IS [NOT] DISTINCT FROM
                    return True
                prev = tok.text
            elif tok.depth == 0:
                prev = ""
        return False

    def has_returning(self) -> bool:
        """Does the statement have a top-level RETURNING clause?"""
        if "returning" not in self.text.lower():
            return False
        return any(t.kind == "word" and t.depth == 0 and t.text == "RETURNING"
                   for t in iter_tokens(self.text))

    def insert_has_column_list(self) -> bool:
        """``INSERT [OR ...] INTO name [AS alias] ( col, ... )`` as opposed to VALUES/SELECT/(SELECT)."""
        toks = _head_tokens(self.text, 512)
        i = _index_of_word(toks, "INSERT")
        if i < 0:
            return False
        i += 1
        while i < len(toks) and toks[i].kind == "word" and toks[i].text in ("OR", "REPLACE", "IGNORE"):
            i += 1
        if i < len(toks) and toks[i].kind == "word" and toks[i].text == "INTO":
            i += 1
        i = _skip_name(toks, i)
        if i < 0:
            return False
        if i < len(toks) and toks[i].kind == "word" and toks[i].text == "AS":
            i += 2
        elif (i < len(toks) and toks[i].kind in ("word", "qident")
              and toks[i].text not in ("VALUES", "SELECT", "DEFAULT", "BY", "WITH", "FROM", "TABLE")):
            i += 1                                 # bare alias
        if i + 1 >= len(toks) or toks[i].raw != "(":
            return False
        nxt = toks[i + 1]
        return not (nxt.kind == "word" and nxt.text in ("SELECT", "WITH", "VALUES", "FROM", "TABLE"))

    def ddl_target(self) -> Tuple[str, str, str]:
        """(object kind, schema or "", object name) for CREATE/DROP/ALTER; names as written."""
        toks = _head_tokens(self.text, 48)
        i = 1
        if self.verb == "CREATE":
            while i < len(toks) and toks[i].kind == "word" and toks[i].text in _CREATE_MODIFIERS:
                i += 1
        if i >= len(toks) or toks[i].kind != "word":
            return ("object", "", "")
        kind = toks[i].text.lower()
        i += 1
        if kind == "materialized" and i < len(toks) and toks[i].text == "VIEW":
            kind, i = "view", i + 1
        elif kind == "macro" and i < len(toks) and toks[i].text == "TABLE":   # DROP MACRO TABLE
            i += 1
        elif kind == "table" and i < len(toks) and toks[i].text == "MACRO":
            kind, i = "macro", i + 1
        while i < len(toks) and toks[i].kind == "word" and toks[i].text in _NAME_SKIP:
            i += 1
        parts = _name_parts(toks, i)
        if not parts:
            return (kind, "", "")
        return (kind, parts[-2] if len(parts) >= 2 else "", parts[-1])


def _head_tokens(text: str, limit: int) -> List[Token]:
    out = []
    for tok in iter_tokens(text):
        out.append(tok)
        if len(out) >= limit:
            break
    return out


def _index_of_word(toks: List[Token], word: str) -> int:
    for i, t in enumerate(toks):
        if t.kind == "word" and t.depth == 0 and t.text == word:
            return i
    return -1


def _name_parts(toks: List[Token], i: int) -> List[str]:
    """A dotted name starting at ``toks[i]``, as written (quotes removed)."""
    parts: List[str] = []
    while i < len(toks) and toks[i].kind in ("word", "qident"):
        parts.append(toks[i].raw if toks[i].kind == "word" else toks[i].text)
        if i + 1 < len(toks) and toks[i + 1].raw == ".":
            i += 2
            continue
        break
    return parts


def _skip_name(toks: List[Token], i: int) -> int:
    """Index after a dotted name starting at ``i``; -1 if there is no name."""
    if i >= len(toks) or toks[i].kind not in ("word", "qident"):
        return -1
    while True:
        i += 1
        if i + 1 < len(toks) and toks[i].raw == "." and toks[i + 1].kind in ("word", "qident"):
            i += 1
            continue
        return i


def _word_list(toks: List[Token]) -> List[str]:
    return [t.text if t.kind == "word" else "" for t in toks]


def classify(text: str) -> StatementInfo:
    """Classify one statement text (as returned by :func:`split_statements`)."""
    toks = _head_tokens(text, 8)
    words = _word_list(toks)
    verb = words[0] if words else ""
    # COMMAND_COMPLETE fallback tag: first SQL word upper-cased, cut at whitespace or "(".
    tag_word = verb if verb else (text.split(None, 1)[0].split("(", 1)[0].upper() if text else "")
    tag_word = tag_word or "COMMAND"
    kind = OTHER
    savepoint = ""
    if verb == "BEGIN" or (verb == "START" and words[1:2] == ["TRANSACTION"]):
        kind = BEGIN
    elif verb in ("COMMIT", "END"):
        kind = COMMIT
    elif verb in ("ROLLBACK", "ABORT"):
        kind = ROLLBACK
        rest = [w for w in words[1:] if w not in ("WORK", "TRANSACTION")]
        if rest[:1] == ["TO"]:
            kind = ROLLBACK_TO
            savepoint = _savepoint_name(toks, "TO")
    elif verb == "SAVEPOINT":
        kind = SAVEPOINT
        savepoint = _savepoint_name(toks, "SAVEPOINT")
    elif verb == "RELEASE":
        kind = RELEASE
        savepoint = _savepoint_name(toks, "RELEASE")
    return StatementInfo(text=text, kind=kind, verb=verb, tag_word=tag_word, savepoint=savepoint)


def _savepoint_name(toks: List[Token], after: str) -> str:
    i = _index_of_word(toks, after)
    if i < 0:
        return ""
    i += 1
    if i < len(toks) and toks[i].kind == "word" and toks[i].text == "SAVEPOINT":
        i += 1
    if i < len(toks) and toks[i].kind in ("word", "qident"):
        return toks[i].raw if toks[i].kind == "word" else toks[i].text
    return ""
