"""The text form of rules -> rule tree (`parse_text`); `printer.to_text` is its inverse.

Grammar (keywords case-insensitive; `printer.py` writes exactly the canonical forms):

    rule      := or_expr
    or_expr   := and_expr ("or" and_expr)*         2+ operands -> AnyOf
    and_expr  := unary ("and" unary)*              2+ operands -> AllOf
    unary     := "not" unary | primary             `not` binds tightest
    primary   := "(" or_expr ")"                   the inner node itself, so
                                                   `(a and b) and c` = AllOf((AllOf((a, b)), c))
               | ("all" | "any") "(" [or_expr ("," or_expr)*] ")"   all() all(x) any(a, b)
               | "in" "segment" STRING | "ever" "in" "segment" STRING
               | "has" "deals" ["where" "(" or_expr ")"] ["count" cmp]     (either order)
               | "event" STRING ["campaign" campaign] ["within" window] ["count" cmp]
                                                   (clauses in any order, each at most once)
               | field op [value]                  a value after every op but exists forms
    field     := WORD (`company.size`) | STRING (any other name, or a reserved word)
    op        := = | == | != | <> | > | >= | < | <= | in | not in | has | not has
               | has any | has all | has none | exists | not exists | contains
               | starts with | ends with | between | within last | older than
               | any SPEC op name as one word: eq ne gt gte lt lte not_in has_any ...
    value     := STRING | INT | true | false | "(" [scalar ("," scalar)*] ")"
    cmp       := cop INT | "(" cop INT ("," cop INT)* ")"   cop: = > >= < <= (or eq gt ...)
    campaign  := STRING | "in" "(" STRING, ... ")" | "last" INT ["match" ("all" | "any")]
    window    := "last" STRING | "since" STRING | "between" "(" STRING "," STRING ")"

Examples: `has deals where (stage = "closed_won" and value > 1000) count (>= 2, < 5)`,
`event "email_opened" campaign last 3 match all within last "30d" count >= 2`,
`ever in segment "VIP"`, `"odd field" = 1`.

The parser keeps its own stack of open groups (no recursion); more than
`limits.max_depth` nested parentheses, groups, `where (` and `not`s, or more than
`limits.max_nodes` nodes, is an error as soon as it is read. The finished tree is checked
against the limits again. Errors are `ParseError`s (InvalidArgument) with line, column
and a caret snippet.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bitseg.errors import InvalidArgument
from bitseg.rules.limits import Limits
from bitseg.rules.model import (
    AllOf,
    AnyOf,
    CampaignIn,
    CampaignLast,
    CampaignSelector,
    Cmp,
    Condition,
    EventRule,
    HasDeals,
    Not,
    Rule,
    Scalar,
    SegmentRef,
    Window,
    WindowBetween,
    WindowLast,
    WindowSince,
)
from bitseg.rules.tokens import RESERVED, Kind, Scanner, Token
from bitseg.rules.vocab import CMP_KEYS, OP_NAMES, OP_TEXT, VALUE_FREE_OPS
from bitseg.rules.walk import DEFAULT_LIMITS, check_limits

_SYM_OPS = {"=": "eq", "==": "eq", "!=": "ne", "<>": "ne", ">": "gt", ">=": "gte",
            "<": "lt", "<=": "lte"}  # fmt: skip
_TWO_WORD_OPS = {"not": ("in", "has", "exists"), "starts": ("with",), "ends": ("with",),
                 "within": ("last",), "older": ("than",)}  # fmt: skip
_EXPECTED_AFTER = {
    "root": '"and", "or" or end of input',
    "paren": '"and", "or" or ")"',
    "where": '"and", "or" or ")"',
    "all": '"and", "or", "," or ")"',
    "any": '"and", "or", "," or ")"',
}


def parse_text(text: str | bytes, limits: Limits = DEFAULT_LIMITS) -> Rule:
    """The rule tree of a rule in text form.

    >>> parse_text('country = "DE" and not tags has "churned"')
    AllOf(children=(Condition(field='country', op='eq', value='DE'), Not(child=Condition(field='tags', op='has', value='churned'))))
    """  # noqa: E501
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidArgument("rule text is not valid UTF-8") from None
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_message_bytes:
        raise InvalidArgument(f"rule too large: {size} bytes (limit {limits.max_message_bytes})")
    rule = _Parser(text, limits).parse()
    check_limits(rule, limits)
    return rule


@dataclass
class _Deals:
    """A `has deals` being read: its clauses so far."""

    where: Rule | None = None
    count: Cmp | None = None
    seen_where: bool = False


@dataclass
class _Frame:
    """One open group: the root, `(`, `all(`, `any(` or a `where (`."""

    kind: str
    opener: Token | None
    nots: int = 0
    chain: list[Rule] = field(default_factory=list)
    terms: list[Rule] = field(default_factory=list)
    args: list[Rule] = field(default_factory=list)
    deals: _Deals | None = None


class _Parser:
    def __init__(self, text: str, limits: Limits) -> None:
        self.scan = Scanner(text)
        self.limits = limits
        self.frames = [_Frame("root", None)]
        self.nesting = 0
        self.nodes = 0
        self.last = Token(Kind.END, "", 0)

    def parse(self) -> Rule:
        while True:
            rule: Rule | None = self._operand()
            while rule is not None:
                frame = self.frames[-1]
                frame.chain.append(self._wrap_nots(frame, rule))
                rule, done = self._operator(frame)
                if done:
                    assert rule is not None
                    return rule

    # ------------------------------------------------------------ structure

    def _take(self) -> Token:
        self.last = self.scan.take()
        return self.last

    def _operand(self) -> Rule:
        """Read `not`s and openings up to one complete primary."""
        while True:
            tok = self._take()
            word = tok.word
            if word == "not":
                self.frames[-1].nots += 1
                self._nest(tok)
            elif tok.is_sym("("):
                self._push("paren", tok)
            elif word in ("all", "any"):
                paren = self._expect_sym("(", tok)
                if not self.scan.peek().is_sym(")"):
                    self._push(word, paren)
                    continue
                self._take()
                return self._node(AllOf(()) if word == "all" else AnyOf(()))
            elif word == "has":
                self._expect_word("deals", tok)
                rule = self._deals_clauses(_Deals())
                if rule is not None:
                    return rule
            else:
                return self._leaf(tok)

    def _operator(self, frame: _Frame) -> tuple[Rule | None, bool]:
        """After an operand: None to read another, or a finished rule (and whether at the end)."""
        tok = self._take()
        if tok.word == "and":
            return None, False
        if tok.word == "or":
            frame.terms.append(self._chain(frame))
            return None, False
        if tok.is_sym(",") and frame.kind in ("all", "any"):
            frame.args.append(self._finish(frame))
            return None, False
        if tok.is_sym(")") and frame.kind != "root":
            return self._close(frame), False
        if tok.kind is Kind.END and frame.kind == "root":
            return self._finish(frame), True
        if tok.kind is Kind.END and frame.opener is not None:
            line, column = _line_column(self.scan.text, frame.opener.pos)
            detail = f'expected ")" to close the "(" at line {line}, column {column}'
            raise self.scan.error(tok, f"{detail}, found end of input")
        raise self._unexpected(tok, _EXPECTED_AFTER[frame.kind])

    def _push(self, kind: str, opener: Token, deals: _Deals | None = None) -> None:
        self._nest(opener)
        self.frames.append(_Frame(kind, opener, deals=deals))

    def _nest(self, tok: Token) -> None:
        self.nesting += 1
        if self.nesting > self.limits.max_depth:
            limit = self.limits.max_depth
            raise self.scan.error(
                tok, f"rule too deep: more than {limit} levels of nesting (limit {limit})"
            )

    def _node(self, rule: Rule) -> Rule:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            limit = self.limits.max_nodes
            raise self.scan.error(
                self.last, f"rule too large: more than {limit} nodes (limit {limit})"
            )
        return rule

    def _wrap_nots(self, frame: _Frame, rule: Rule) -> Rule:
        for _ in range(frame.nots):
            rule = self._node(Not(rule))
        self.nesting -= frame.nots
        frame.nots = 0
        return rule

    def _chain(self, frame: _Frame) -> Rule:
        chain, frame.chain = frame.chain, []
        return chain[0] if len(chain) == 1 else self._node(AllOf(tuple(chain)))

    def _finish(self, frame: _Frame) -> Rule:
        frame.terms.append(self._chain(frame))
        terms, frame.terms = frame.terms, []
        return terms[0] if len(terms) == 1 else self._node(AnyOf(tuple(terms)))

    def _close(self, frame: _Frame) -> Rule:
        expr = self._finish(frame)
        self.frames.pop()
        self.nesting -= 1
        if frame.kind == "paren":
            return expr
        if frame.kind in ("all", "any"):
            group = AllOf if frame.kind == "all" else AnyOf
            return self._node(group((*frame.args, expr)))
        assert frame.deals is not None
        frame.deals.where = expr
        rule = self._deals_clauses(frame.deals)
        assert rule is not None
        return rule

    # ------------------------------------------------------------ leaves

    def _leaf(self, tok: Token) -> Rule:
        word = tok.word
        if word == "in":
            return self._segment(tok, ever=False)
        if word == "ever":
            return self._segment(self._expect_word("in", tok), ever=True)
        if word == "event":
            return self._event(tok)
        if tok.kind is Kind.STRING or (tok.kind is Kind.WORD and word not in RESERVED):
            return self._condition(tok)
        raise self.scan.error(tok, f"expected a rule, found {tok.describe()}")

    def _segment(self, tok: Token, ever: bool) -> Rule:
        name = self._string_after(self._expect_word("segment", tok), "the segment name")
        return self._node(SegmentRef(name, ever))

    def _condition(self, tok: Token) -> Rule:
        name = tok.value if isinstance(tok.value, str) else tok.text
        op, spelled = self._op(tok)
        value = None if op in VALUE_FREE_OPS else self._value(spelled)
        return self._node(Condition(name, op, value))

    def _op(self, field_tok: Token) -> tuple[str, str]:
        tok = self._take()
        if tok.kind is Kind.SYM and tok.text in _SYM_OPS:
            return _SYM_OPS[tok.text], tok.text
        word = tok.word
        if word == "has" and self.scan.peek().word in ("any", "all", "none"):
            word = f"has_{self._take().word}"
        elif word in _TWO_WORD_OPS:
            second = self._take()
            if second.word not in _TWO_WORD_OPS[word]:
                options = " or ".join(f'"{w}"' for w in _TWO_WORD_OPS[word])
                raise self.scan.error(
                    second, f'expected {options} after "{tok.text}", found {second.describe()}'
                )
            word = f"{word}_{second.word}"
        if word in OP_NAMES:
            return word, OP_TEXT[word]
        raise self.scan.error(
            tok, f"expected an operator after {field_tok.describe()}, found {tok.describe()}"
        )

    def _value(self, spelled: str) -> Scalar | tuple[Scalar, ...]:
        tok = self._take()
        scalar = _scalar(tok)
        if scalar is not None:
            return scalar
        if tok.is_sym("("):
            return self._list(tok)
        raise self.scan.error(tok, f'expected a value after "{spelled}", found {tok.describe()}')

    def _list(self, opener: Token, strings_only: bool = False) -> tuple[Scalar, ...]:
        what = "a string" if strings_only else "a string, integer, true or false"
        items: list[Scalar] = []
        if self.scan.peek().is_sym(")"):
            self._take()
            return ()
        while True:
            tok = self._take()
            item = _scalar(tok)
            if item is None or (strings_only and not isinstance(item, str)):
                raise self.scan.error(tok, f"expected {what} in the list, found {tok.describe()}")
            items.append(item)
            if len(items) > self.limits.max_in_values:
                limit = self.limits.max_in_values
                raise self.scan.error(opener, f"more than {limit} values in a list (limit {limit})")
            tok = self._take()
            if tok.is_sym(")"):
                return tuple(items)
            if not tok.is_sym(","):
                raise self._unexpected(tok, '"," or ")" in the list')

    def _cmp(self, after: Token) -> Cmp:
        items: dict[str, int] = {}
        if not self.scan.peek().is_sym("("):
            self._cmp_item(after, items)
            return Cmp(**items)
        self._take()
        while True:
            self._cmp_item(after, items)
            tok = self._take()
            if tok.is_sym(")"):
                return Cmp(**items)
            if not tok.is_sym(","):
                raise self.scan.error(tok, f'expected "," or ")", found {tok.describe()}')

    def _cmp_item(self, after: Token, items: dict[str, int]) -> None:
        tok = self._take()
        key = _SYM_OPS.get(tok.text) if tok.kind is Kind.SYM else tok.word
        if key not in CMP_KEYS:
            raise self._unexpected(tok, f'a comparison such as ">= 2" after "{after.text}"')
        assert key is not None
        if key in items:
            raise self.scan.error(tok, f'"{tok.text}" given twice in one count')
        num = self._take()
        if not isinstance(num.value, int) or num.kind is not Kind.INT:
            raise self._unexpected(num, f'a whole number after "{tok.text}"')
        items[key] = num.value

    def _deals_clauses(self, deals: _Deals) -> Rule | None:
        """Read `where (` / `count` clauses; None when a `where (` group was opened."""
        while True:
            tok = self.scan.peek()
            if tok.word == "where":
                if deals.seen_where:
                    raise self.scan.error(tok, '"where" given twice')
                self._take()
                paren = self._expect_sym("(", tok)
                deals.seen_where = True
                self._push("where", paren, deals)
                return None
            if tok.word != "count":
                return self._node(HasDeals(deals.where, deals.count))
            if deals.count is not None:
                raise self.scan.error(tok, '"count" given twice')
            deals.count = self._cmp(self._take())

    def _event(self, tok: Token) -> Rule:
        kind = self._string_after(tok, "the event type")
        campaign: CampaignSelector | None = None
        within: Window | None = None
        count: Cmp | None = None
        seen: set[str] = set()
        while (nxt := self.scan.peek()).word in ("campaign", "within", "count"):
            if nxt.word in seen:
                raise self.scan.error(nxt, f'"{nxt.word}" given twice')
            seen.add(nxt.word)
            self._take()
            if nxt.word == "campaign":
                campaign = self._campaign(nxt)
            elif nxt.word == "within":
                within = self._window(nxt)
            else:
                count = self._cmp(nxt)
        return self._node(EventRule(kind, campaign, within, count))

    def _campaign(self, after: Token) -> CampaignSelector:
        tok = self._take()
        if isinstance(tok.value, str):
            return tok.value
        if tok.word == "in":
            ids = self._list(self._expect_sym("(", tok), strings_only=True)
            return CampaignIn(tuple(str(i) for i in ids))
        if tok.word != "last":
            expected = f'a campaign id, "in (...)" or "last N" after "{after.text}"'
            raise self._unexpected(tok, expected)
        num = self._take()
        if num.kind is not Kind.INT or not isinstance(num.value, int):
            raise self._unexpected(num, 'a whole number after "last"')
        if self.scan.peek().word != "match":
            return CampaignLast(num.value)
        match = self._take()
        how = self._take()
        if how.word == "all":
            return CampaignLast(num.value, "all")
        if how.word == "any":
            return CampaignLast(num.value, "any")
        raise self._unexpected(how, f'"all" or "any" after "{match.text}"')

    def _window(self, after: Token) -> Window:
        tok = self._take()
        if tok.word == "last":
            return WindowLast(self._string_after(tok, 'a duration such as "30d"'))
        if tok.word == "since":
            return WindowSince(self._string_after(tok, "a time"))
        if tok.word != "between":
            raise self._unexpected(tok, f'"last", "since" or "between" after "{after.text}"')
        paren = self._expect_sym("(", tok)
        start = self._string_after(paren, "a time")
        comma = self._expect_sym(",", self.last)
        end = self._string_after(comma, "a time")
        self._expect_sym(")", self.last)
        return WindowBetween(start, end)

    # ------------------------------------------------------------ helpers

    def _expect_word(self, word: str, after: Token) -> Token:
        tok = self._take()
        if tok.word != word:
            raise self._unexpected(tok, f'"{word}" after "{after.text}"')
        return tok

    def _expect_sym(self, sym: str, after: Token) -> Token:
        tok = self._take()
        if not tok.is_sym(sym):
            raise self._unexpected(tok, f'"{sym}" after {after.describe()}')
        return tok

    def _string_after(self, after: Token, what: str) -> str:
        tok = self._take()
        if tok.kind is not Kind.STRING or not isinstance(tok.value, str):
            raise self._unexpected(tok, f'{what} as a string after "{after.text}"')
        return tok.value

    def _unexpected(self, tok: Token, expected: str) -> InvalidArgument:
        return self.scan.error(tok, f"expected {expected}, found {tok.describe()}")


def _scalar(tok: Token) -> Scalar | None:
    if tok.kind in (Kind.STRING, Kind.INT):
        return tok.value
    if tok.word in ("true", "false"):
        return tok.word == "true"
    return None


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - (text.rfind("\n", 0, pos) + 1) + 1
