"""A structural check of CPLEX LP text, run before dimod's LP reader.

dimod's reader (adapted from HiGHS) folds a ``+``/``-`` into the number or
name after it and takes terms one after another with no operator between
them, so some mistakes are read silently as another model: ``3 x +`` before
``Subject To`` adds a constant 1 (the ``+`` becomes ``+1``), ``3 x y`` is read
as ``3 x + y``, and ``x >= -`` then ``y free`` as ``x >= -1``. Its other syntax
errors name no line. This module tokenizes the text the way that reader does
(same comments, numbers, names and keywords) and checks, section by section:

* objective and constraint expressions: terms and ``+``/``-`` alternate (one
  or two signs in a row), no sign without a term after it, quadratic terms only
  inside ``[ ]`` (``x * y``, ``x ^ 2``; ``]/2`` after them in the objective);
* constraints: ``[label:] expression sense [sign] number`` with sense ``<=``,
  ``>=`` or ``=``;
* bounds: ``x free``, ``l <= x <= u``, ``l <= x``, ``x <= u``, ``x >= l``,
  ``x = v`` (a sign only in front of a number);
* nothing before the first section, and at most one objective, ``Subject To``
  and ``Bounds`` section.

The check accepts everything the reader accepts that means what it says;
:func:`check` raises :class:`LpSyntaxError` with the line of the bad token.

Example:
    >>> check("Maximize\\n obj: 3 x + 2 y\\nSubject To\\n c: x + y <= 1\\nEnd\\n")
    'max'
    >>> try:
    ...     check("Maximize\\n obj: 3 x + 2 y +\\nSubject To\\n c: x + y <= 1\\nEnd\\n")
    ... except LpSyntaxError as exc:
    ...     print(exc.line, exc.reason)
    2 the objective has a '+' with no term after it (before 'Subject To')
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

#: what C's strtod takes as a number where the reader looks for one (hex, inf and nan included)
_NUMBER = re.compile(
    r"(?:[\v\f\r][\t\n\v\f\r ]*[+-]?)?"
    r"(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
)
#: a name runs up to one of these characters (as in the reader)
_NAME = re.compile(r"[^\t\n\\:+<>^= /\-*\[\]]+")
_SINGLE = set("[]<>=:+^/*-")
_KEYWORDS = {
    "minimize": "min", "min": "min", "minimum": "min",
    "maximize": "max", "max": "max", "maximum": "max",
    "subject to": "st", "such that": "st", "st": "st", "s.t.": "st",
    "bounds": "bounds", "bound": "bounds",
    "binary": "bin", "binaries": "bin", "bin": "bin",
    "general": "gen", "generals": "gen", "gen": "gen", "integer": "gen", "integers": "gen",
    "semi-continuous": "semi", "semi": "semi", "semis": "semi", "sos": "sos", "end": "end",
}
_SENSES = ("<=", ">=", "=")
_PRODUCT = "a product or square outside [ ]: quadratic terms are written [ 2 x * y + x ^ 2 ]"


class LpSyntaxError(ValueError):
    """An LP text breaks the grammar at ``line`` (None: no one line to blame)."""

    def __init__(self, line: int | None, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}" if line is not None else reason)


class Token(NamedTuple):
    """One token: ``kind`` is kw, label, name, num, sign, cmp, free or the character itself."""

    kind: str
    text: str
    line: int


def _raw_tokens(text: str) -> list[Token]:
    """Characters, numbers and names, line by line (``\\`` and ``;`` end a line, as in the reader)."""
    out: list[Token] = []
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        pos = 0
        while pos < len(line):
            ch = line[pos]
            if ch in "\\;":
                break
            if ch in " \t":
                pos += 1
                continue
            if ch in _SINGLE:
                out.append(Token(ch, ch, number))
                pos += 1
                continue
            match = _NUMBER.match(line, pos) or _NAME.match(line, pos)
            assert match is not None  # every other character starts a name
            out.append(Token("num" if match.re is _NUMBER else "str", match.group(), number))
            pos = match.end()
    return out


def tokens(text: str) -> list[Token]:
    """The reader's tokens: keywords, labels (``name:``), names, numbers, signs, senses."""
    if "\0" in text:
        raise LpSyntaxError(text.count("\n", 0, text.index("\0")) + 1, "a NUL character")
    raw = _raw_tokens(text)
    out: list[Token] = []
    i = 0
    while i < len(raw):
        tok, nxt, nxt2 = raw[i], _at(raw, i + 1), _at(raw, i + 2)
        if tok.kind == "/" and nxt.kind == "*":  # /* comment */, skipped two tokens at a time as the reader does
            i += 2
            while i < len(raw) and not (raw[i].kind == "*" and _at(raw, i + 1).kind == "/"):
                i += 2
            if i >= len(raw):  # an odd number of tokens inside: the reader misses the end and drops the rest of the file
                raise LpSyntaxError(tok.line, "the LP reader does not see the end of this /* comment */ (it skips to the end of the file); use a '\\' comment")
            i += 2
            continue
        step, token = _classify(tok, nxt, nxt2)
        out.append(token)
        i += step
    return out


def _at(items: list[Token], i: int) -> Token:
    """``items[i]``, or an end-of-text token."""
    return items[i] if i < len(items) else Token("eof", "", items[-1].line if items else 1)


def _classify(tok: Token, nxt: Token, nxt2: Token) -> tuple[int, Token]:
    """The reader's token starting at ``tok``, and how many raw tokens it takes."""
    if tok.kind == "str":
        low = tok.text.lower()
        if nxt.kind == "-" and nxt2.kind == "str" and f"{low}-{nxt2.text.lower()}" in _KEYWORDS:
            return 3, Token("kw", f"{tok.text}-{nxt2.text}", tok.line)
        if nxt.kind == "str" and f"{low} {nxt.text.lower()}" in _KEYWORDS:
            return 2, Token("kw", f"{tok.text} {nxt.text}", tok.line)
        if low in _KEYWORDS:
            return 1, Token("kw", tok.text, tok.line)
        if nxt.kind == ":" and nxt2.kind == ":":
            return 3, Token("::", f"{tok.text}::", tok.line)
        if nxt.kind == ":":
            return 2, Token("label", tok.text, tok.line)
        return 1, Token("free" if low == "free" else "name", tok.text, tok.line)
    if tok.kind in "+-":
        return 1, Token("sign", tok.text, tok.line)
    if tok.kind in "<>" and nxt.kind == "=":
        return 2, Token("cmp", tok.text + "=", tok.line)
    if tok.kind in "<>=":
        return 1, Token("cmp", tok.text, tok.line)
    return 1, tok


def describe(tok: Token) -> str:
    """A token as an error message shows it."""
    if tok.kind == "eof":
        return "the end of the file"
    if tok.kind == "label":
        return f"the label '{tok.text[:40]}:'"
    return repr(tok.text if len(tok.text) <= 40 else tok.text[:40] + "...")


def value(text: str) -> float:
    """The number a numeric token stands for (NaN if unreadable)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return float.fromhex(text.strip())
    except ValueError:
        return math.nan


class _Parser:
    """A cursor over the tokens of one section."""

    def __init__(self, toks: list[Token], end: Token) -> None:
        self.toks = toks
        self.i = 0
        self.end = end  # the token after the section (a keyword, or the end of the file)

    def peek(self, ahead: int = 0) -> Token:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else self.end

    def take(self) -> Token:
        tok = self.peek()
        self.i += 1
        return tok

    def signs(self) -> tuple[Token | None, float]:
        """Skip one or two signs; the first and the product (+1.0 when there are none)."""
        first, sign, count = None, 1.0, 0
        while self.peek().kind == "sign":
            tok = self.take()
            first = first or tok
            sign *= -1.0 if tok.text == "-" else 1.0
            count += 1
            if count > 2:
                raise LpSyntaxError(tok.line, f"three signs in a row at {describe(tok)}")
        return first, sign

    def signed_number(self) -> float | None:
        """``[sign [sign]] number`` -> its value; None (nothing taken) if no number follows."""
        start = self.i
        _, sign = self.signs()
        if self.peek().kind != "num":
            self.i = start
            return None
        return sign * value(self.take().text)


def _expression(p: _Parser, where: str, objective: bool) -> None:
    """Terms joined by signs: ``[sign] term {sign term}``; stops at the first token that is no part of one."""
    terms, pending = 0, None  # pending: the sign still waiting for its term
    while True:
        tok = p.peek()
        if tok.kind == "sign":
            pending, sign = p.signs()
            continue
        if tok.kind not in ("num", "name", "["):
            break
        if terms and pending is None:
            raise LpSyntaxError(tok.line, f"missing '+' or '-' before {describe(tok)}")
        _term(p, where, objective, negative=pending is not None and sign < 0)
        terms, pending = terms + 1, None
    if pending is not None:
        raise LpSyntaxError(pending.line, f"{where} has a {pending.text!r} with no term after it (before {describe(p.peek())})")


def _term(p: _Parser, where: str, objective: bool, negative: bool) -> None:
    """A linear term (``3 x``, ``x``, ``3``) or a bracket of quadratic terms."""
    tok = p.take()
    if tok.kind == "num" and p.peek().kind == "[":
        raise LpSyntaxError(tok.line, f"a number before '[': write the coefficients inside the brackets ({where})")
    if tok.kind == "num" and p.peek().kind == "name":
        p.take()
    elif tok.kind == "[":
        if negative:
            raise LpSyntaxError(tok.line, "'-' before '[' is not allowed: put the signs on the terms inside the brackets")
        _bracket(p, tok, objective)


def _bracket(p: _Parser, opening: Token, objective: bool) -> None:
    """``[ qterm {sign qterm} ]`` (then ``/ 2`` in the objective); the ``[`` is taken."""
    terms, pending = 0, None
    while p.peek().kind != "]":
        tok = p.peek()
        if tok.kind == "sign":
            pending, _ = p.signs()
            continue
        if tok.kind in ("eof", "kw"):
            raise LpSyntaxError(opening.line, "'[' without a closing ']'")
        if terms and pending is None:
            raise LpSyntaxError(tok.line, f"missing '+' or '-' before {describe(tok)} inside [ ]")
        _quadratic_term(p)
        terms, pending = terms + 1, None
    if pending is not None:
        raise LpSyntaxError(pending.line, f"a {pending.text!r} with no term after it (before ']')")
    closing = p.take()
    if objective:
        if p.peek().kind != "/" or (p.take(), p.signed_number())[1] != 2.0:
            raise LpSyntaxError(closing.line, "quadratic terms in the objective end with ']/2' (write [ 2 x * y ]/2 for x*y)")


def _quadratic_term(p: _Parser) -> None:
    """``[number] x * y`` or ``[number] x ^ 2``."""
    if p.peek().kind == "num":
        p.take()
    tok = p.take()
    if tok.kind != "name":
        raise LpSyntaxError(tok.line, f"expected a variable inside [ ], got {describe(tok)}")
    op = p.take()
    if op.kind == "*":
        other = p.take()
        if other.kind != "name":
            raise LpSyntaxError(other.line, f"expected a variable after '*', got {describe(other)}")
    elif op.kind == "^":
        if p.signed_number() != 2.0:
            raise LpSyntaxError(op.line, "only squares can be written with '^' (x ^ 2)")
    else:
        raise LpSyntaxError(op.line, f"a term inside [ ] is a product 'x * y' or a square 'x ^ 2', got {describe(op)} after {describe(tok)}")


def _objective(p: _Parser) -> None:
    """``[label:] expression``, and nothing else."""
    if p.peek().kind == "label":
        p.take()
    _expression(p, "the objective", objective=True)
    tok = p.peek()
    if tok is p.end:
        return
    if tok.kind in ("*", "^"):
        raise LpSyntaxError(tok.line, _PRODUCT)
    if tok.kind in ("cmp", "label"):
        raise LpSyntaxError(tok.line, f"{describe(tok)} in the objective: is 'Subject To' missing before it?")
    raise LpSyntaxError(tok.line, f"unexpected {describe(tok)} in the objective")


def _constraints(p: _Parser) -> None:
    """``[label:] expression sense [sign] number``, one after another."""
    rhs_line = None
    while p.peek() is not p.end:
        first = p.peek()
        try:
            rhs_line = _constraint(p)
        except LpSyntaxError:
            if first.line == rhs_line and first.kind != "label":  # c: x <= 1 + 1
                raise LpSyntaxError(first.line, f"{describe(first)} after the right-hand side of a constraint (it is one number)") from None
            raise


def _constraint(p: _Parser) -> int:
    """One constraint; the line of its right-hand side."""
    first = p.peek()
    if first.kind == "label":
        p.take()
    _expression(p, "this constraint", objective=False)
    tok = p.peek()
    if tok.kind in ("*", "^"):
        raise LpSyntaxError(tok.line, _PRODUCT)
    if tok is p.end or tok.kind == "label":
        raise LpSyntaxError(first.line, "this constraint has no sense and right-hand side (e.g. '<= 3')")
    if tok.kind != "cmp":
        raise LpSyntaxError(tok.line, f"unexpected {describe(tok)} in this constraint")
    if tok.text not in _SENSES:
        raise LpSyntaxError(tok.line, f"{tok.text!r} is not a constraint sense: use <=, >= or =")
    p.take()
    if p.signed_number() is None:
        raise LpSyntaxError(tok.line, f"this constraint has no right-hand side number after {tok.text!r} (got {describe(p.peek())})")
    return p.toks[p.i - 1].line


def _bounds(p: _Parser) -> None:
    """``x free``, ``l <= x <= u``, ``l <= x``, ``x <= u``, ``x >= l``, ``x = v``; signs only before numbers."""
    while p.peek() is not p.end:
        first = p.take()
        if first.kind == "name" and p.peek().kind == "free":
            p.take()
            continue
        if first.kind == "name":  # x <= u, x >= l, x = v
            _bound_number(p, _bound_sense(p))
            continue
        p.i -= 1
        if p.signed_number() is None:
            raise LpSyntaxError(first.line, f"cannot read a bound starting at {describe(first)}")
        sense = _bound_sense(p)
        name = p.take()
        if name.kind != "name":
            raise LpSyntaxError(name.line, f"expected a variable after {sense.text!r} in this bound, got {describe(name)}")
        if p.peek().kind == "cmp":  # l <= x <= u
            upper = _bound_sense(p)
            if sense.text != "<=" or upper.text != "<=":
                raise LpSyntaxError(upper.line, "write a two-sided bound as 'lower <= x <= upper'")
            _bound_number(p, upper)


def _bound_sense(p: _Parser) -> Token:
    """The sense of a bound: ``<=``, ``>=`` or ``=``."""
    sense = p.take()
    if sense.kind != "cmp" or sense.text not in _SENSES:
        raise LpSyntaxError(sense.line, f"expected <=, >= or = in this bound, got {describe(sense)}")
    return sense


def _bound_number(p: _Parser, sense: Token) -> None:
    """The number after a bound's sense (a sign only in front of a number)."""
    sign = p.peek()
    if p.signed_number() is None:
        if sign.kind == "sign":
            raise LpSyntaxError(sign.line, f"this bound has a {sign.text!r} with no number after it (before {describe(p.peek(1))})")
        raise LpSyntaxError(sense.line, f"expected a number after {sense.text!r} in this bound, got {describe(sign)}")


def _sections(toks: list[Token]) -> list[tuple[Token, list[Token], Token]]:
    """``(keyword, tokens, following token)`` per section; error for text before the first one."""
    if toks and toks[0].kind != "kw":
        raise LpSyntaxError(toks[0].line, f"{describe(toks[0])} before the first section (Minimize, Maximize or Subject To)")
    starts = [i for i, tok in enumerate(toks) if tok.kind == "kw"]
    out = []
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(toks)
        out.append((toks[start], toks[start + 1:stop], _at(toks, stop)))
    return out


def check(text: str) -> str | None:
    """Raise :class:`LpSyntaxError` where ``text`` breaks the grammar; the objective sense (None: no objective)."""
    seen: dict[str, Token] = {}  # the first non-empty objective, constraints and bounds sections
    sense = None
    for keyword, toks, end in _sections(tokens(text)):
        kind = _KEYWORDS[keyword.text.lower()]
        group = "objective" if kind in ("min", "max") else kind
        if group in ("objective", "st", "bounds") and toks:  # the reader skips an empty section
            if group in seen:
                raise LpSyntaxError(keyword.line, f"a second {'objective' if group == 'objective' else repr(keyword.text)} section (the first is on line {seen[group].line})")
            seen[group] = keyword
        parser = _Parser(toks, end)
        if group == "objective":
            sense = kind if toks or sense is None else sense
            _objective(parser)
        elif kind == "st":
            _constraints(parser)
        elif kind == "bounds":
            _bounds(parser)
    return sense

