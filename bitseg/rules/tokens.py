"""Tokens of the rule text form, the scanner, and syntax errors with a caret snippet.

Owns: the token kinds (words, strings, integers, symbols), the on-demand `Scanner`
(nothing is tokenised ahead of the parser, so a huge input costs only what is read), the
reserved words, `quote_field` (how the printer writes a field name so the parser reads
it back), and `ParseError`, an InvalidArgument carrying line, column and a snippet.

Lexical rules: words are `[A-Za-z_][A-Za-z0-9_]*` with `.`-separated parts
(`company.size`), compared case-insensitively where they are keywords; strings are
JSON strings (double quotes, JSON escapes, no raw control characters); integers are
optionally negative decimal digits within 64 bits; symbols are `= == != <> > >= < <= ( ) ,`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import orjson

from bitseg.errors import InvalidArgument
from bitseg.rules.vocab import in_int_range, show


class Kind(StrEnum):
    WORD = "word"
    STRING = "string"
    INT = "integer"
    SYM = "symbol"
    END = "end"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    pos: int
    value: str | int | None = None

    @property
    def word(self) -> str:
        """The lower-cased text of a word token, "" for any other kind."""
        return self.text.lower() if self.kind is Kind.WORD else ""

    def is_sym(self, *symbols: str) -> bool:
        return self.kind is Kind.SYM and self.text in symbols

    def describe(self) -> str:
        """The token as an error message quotes it."""
        if self.kind is Kind.END:
            return "end of input"
        text = self.text if len(self.text) <= 40 else self.text[:37] + "..."
        return text if self.kind in (Kind.STRING, Kind.INT) else f'"{text}"'


RESERVED: frozenset[str] = frozenset(
    {"and", "or", "not", "in", "ever", "has", "event", "all", "any", "true", "false"}
)
"""Words that cannot start a condition as a bare field name (quote such a field)."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*")
_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)
      | (?P<num>-?\d+(?P<frac>(?:\.\d+)?(?:[eE][+-]?\d+)?))
      | (?P<string>"(?:[^"\\\x00-\x1f]|\\[^\x00-\x1f])*")
      | (?P<sym>>=|<=|!=|<>|==|[=<>(),])""",
    re.VERBOSE,
)


def quote_field(name: str) -> str:
    """A field name as the printer writes it: bare if it reads back as itself, else quoted."""
    if _IDENTIFIER.fullmatch(name) and name.lower() not in RESERVED:
        return name
    return quote(name)


def quote(text: str) -> str:
    """A JSON string literal (non-ASCII kept as is)."""
    try:
        return orjson.dumps(text).decode()
    except TypeError:
        raise InvalidArgument(f"cannot print string {text!r}: not valid Unicode") from None


class ParseError(InvalidArgument):
    """A syntax error in rule text, at a 1-based line and column."""

    def __init__(self, text: str, pos: int, detail: str) -> None:
        line, column, snippet, caret = _locate(text, pos)
        super().__init__(f"line {line}, column {column}: {detail}\n  {snippet}\n  {caret}^")
        self.line = line
        self.column = column
        self.detail = detail


def _locate(text: str, pos: int, width: int = 60) -> tuple[int, int, str, str]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    line_text = text[start:end].rstrip("\r")
    column = pos - start + 1
    lo = max(0, column - 1 - width)
    snippet = line_text[lo : column - 1 + width]
    before = line_text[lo : column - 1]
    if lo:
        snippet, before = "..." + snippet, "..." + before
    caret = "".join("\t" if ch == "\t" else " " for ch in before)
    return text.count("\n", 0, pos) + 1, column, snippet, caret


class Scanner:
    """Reads tokens one at a time; `peek` looks at the next without consuming it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._pos = 0
        self._next: Token | None = None

    def peek(self) -> Token:
        if self._next is None:
            self._next = self._scan()
        return self._next

    def take(self) -> Token:
        token = self.peek()
        self._next = None
        return token

    def error(self, token: Token, detail: str) -> ParseError:
        return ParseError(self.text, token.pos, detail)

    def _scan(self) -> Token:
        text, pos = self.text, self._pos
        while True:
            if pos >= len(text):
                self._pos = pos
                return Token(Kind.END, "", pos)
            m = _TOKEN.match(text, pos)
            if m is None:
                raise self._bad_character(pos)
            self._pos = pos = m.end()
            if m.lastgroup != "ws":
                return self._token(m)

    def _token(self, m: re.Match[str]) -> Token:
        text, pos = m.group(), m.start()
        if m.lastgroup == "word":
            return Token(Kind.WORD, text, pos)
        if m.lastgroup == "sym":
            return Token(Kind.SYM, text, pos)
        if m.lastgroup == "string":
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as e:
                raise ParseError(self.text, pos, f"malformed string: {e}") from None
            return Token(Kind.STRING, text, pos, value)
        if m.group("frac"):
            raise ParseError(self.text, pos, f"only whole numbers are allowed, found {text}")
        digits = text.lstrip("-")
        if len(digits) > 19 or not in_int_range(int(text)):
            raise ParseError(self.text, pos, f"integer out of the 64-bit range: {text[:40]}")
        return Token(Kind.INT, text, pos, int(text))

    def _bad_character(self, pos: int) -> ParseError:
        if self.text[pos] == '"':
            return ParseError(
                self.text, pos, "unterminated string (a string ends on its line; write \\n)"
            )
        return ParseError(self.text, pos, f"unexpected character {show(self.text[pos])}")
