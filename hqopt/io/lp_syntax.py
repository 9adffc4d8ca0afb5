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

# Two passes share one tokenization (the reader's, over the whole text at once rather than line by line):
# * a fast path: one regex per section checks a conservative subset of the grammar on the raw text (what dimod writes,
#   and ordinary hand-written files) and accepts without building tokens; anything it does not match goes to
# * the exact path: the reader's tokens as plain (kind, text, offset) tuples, checked token by token; every refusal
#   and its message come from here. A line number is computed from the offset only when an error names it.
# Everything is matched with ASCII-only case folding, as str.lower() compares the keywords (no 'ſt' for 'st').

_A = re.ASCII
#: a character that continues a name (``\\r`` just before a newline or the end of the text is not part of any line)
_NC = r"(?:[^\t\n\r\\:+<>^= /\-*\[\]]|\r(?!\n|\Z))"
_END_NAME = rf"(?!{_NC})"
#: what lies between the reader's tokens: blanks, line ends, and ``\\`` or ``;`` comments to the end of their line
_GAP = r"[ \t]*(?:(?:\r?\n|\r\Z|[\\;][^\n]*(?=\n|\Z))[ \t]*)*"
#: what C's strtod takes as a number where the reader looks for one (hex, inf and nan included); strtod also skips
#: the blanks before it, here at most 64 (a longer run of them was scanned again from every token in it: quadratic time)
_NUMBER = (
    r"(?:(?:[\v\f]|\r(?!\n|\Z))(?:[\t\v\f ]|\r(?!\n|\Z)){0,63}[+-]?)?"
    r"(?:0[xX](?:[0-9a-fA-F]+(?:\.[0-9a-fA-F]*)?|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
    r"|(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?)"
)
#: a name runs up to one of ``\\t \\n \\ : + < > ^ = space / - * [ ]`` (as in the reader; ``;`` only ends a line at a token's start)
_NAME = rf"{_NC}+"
_KW1 = r"minimize|minimum|min|maximize|maximum|max|st|s\.t\.|bounds|bound|binary|binaries|bin|generals|general|gen|integers|integer|semis|semi|sos|end"

#: the reader's tokens, classified as the reader does from the next two raw tokens (groups: see _KINDS)
_TOKEN = re.compile(
    _GAP + "(?:"
    rf"({_NUMBER})"  # 1 number
    rf"|((?i:semi)){_END_NAME}{_GAP}-{_GAP}((?i:continuous)){_END_NAME}"  # 2, 3 semi-continuous
    rf"|((?i:subject)){_END_NAME}{_GAP}((?i:to)){_END_NAME}"  # 4, 5
    rf"|((?i:such)){_END_NAME}{_GAP}((?i:that)){_END_NAME}"  # 6, 7
    rf"|((?i:{_KW1})){_END_NAME}"  # 8 keyword
    rf"|({_NAME}){_END_NAME}{_GAP}:{_GAP}:"  # 9 name::
    rf"|({_NAME}){_END_NAME}{_GAP}:"  # 10 label
    rf"|((?i:free)){_END_NAME}"  # 11
    rf"|({_NAME})"  # 12 name
    r"|([+-])"  # 13 sign
    rf"|([<>]){_GAP}="  # 14 <= >=
    r"|([<>=])"  # 15
    rf"|(/){_GAP}\*"  # 16 a /* comment
    r"|([\[\]:^/*])"  # 17 the character itself
    r"|\Z)",
    _A,
)
#: raw tokens (inside /* comments, which the reader skips two raw tokens at a time)
_RAW = re.compile(_GAP + rf"(?:({_NUMBER}|{_NAME}|[\[\]<>=:+^/*\-])|\Z)", _A)
_KINDS = {1: "num", 8: "kw", 10: "label", 12: "name", 13: "sign", 15: "cmp"}
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


#: one of the reader's tokens: (kind, text, offset in the text); kind is kw, label, name, num, sign, cmp,
#: free, ::, eof or the character itself
Tok = tuple[str, str, int]


# ------------------------------------------------------------------ the fast path
# A conservative subset of the grammar, as regexes over the raw text. Every token they take is exactly the reader's
# token there (names and numbers end where the reader ends them, keywords and labels are kept out of names, no /* */),
# and every sequence they accept is one the exact path accepts; they may refuse more (then the exact path decides).
_FNAME = (  # a variable or label name: not a number's start, not a keyword (nor 'free', nor the first word of one)
    rf"(?![0-9.]|[iI][nN][fF]|[nN][aA][nN]|(?i:{_KW1}|free|subject|such){_END_NAME})"
    r"[^\t\n\r\v\f\\:+<>^= /\-*\[\];][^\t\n\r\v\f\\:+<>^= /\-*\[\]]*" + _END_NAME
)
_FVAR = rf"{_FNAME}(?!{_GAP}:)"
_FLABEL = rf"{_FNAME}{_GAP}:(?!{_GAP}:)"
_FNUM = (  # a decimal number or inf/infinity, ending where strtod ends it
    r"(?:(?!0[xX])(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?(?![0-9.]|[eE][+-]?[0-9])"
    r"|[iI][nN][fF][iI][nN][iI][tT][yY]|[iI][nN][fF](?![iI][nN][iI][tT][yY]))"
)
_FTWO = r"2(?:\.0*)?(?![0-9.]|[eE][+-]?[0-9])"
_FSIGNS = rf"[+-](?:{_GAP}[+-])?"
_FRHS = rf"(?:[<>]{_GAP}=|=){_GAP}(?:{_FSIGNS}{_GAP})?{_FNUM}"  # sense and number
_FTERM = rf"(?:{_FNUM}(?:{_GAP}{_FVAR})?|{_FVAR})"
_FQTERM = rf"(?:{_FNUM}{_GAP})?{_FVAR}{_GAP}(?:\*{_GAP}{_FVAR}|\^{_GAP}(?:\+{_GAP})?{_FTWO})"
_FHALF = rf"{_GAP}/{_GAP}(?:\+{_GAP})?{_FTWO}"  # the /2 after a bracket in the objective
#: a keyword (or the first word of one) starts the next section
_FNEXT = re.compile(rf"{_GAP}(?=(?i:{_KW1}|subject|such){_END_NAME}|\Z)", _A)
# Repetitions are matched at most _CHUNK (or _SMALL) at a time, the loop in Python, so that the regex engine's
# backtracking stack stays small; the grammar is deterministic, so taking each chunk for good loses nothing.
_CHUNK, _SMALL = 512, 32
_FLEAD = re.compile(rf"(?:{_GAP}{_FLABEL})?", _A)  # an objective's label
_FTERMS = re.compile(rf"(?:{_GAP}{_FSIGNS}{_GAP}{_FTERM}){{0,{_CHUNK}}}", _A)  # more terms of an expression
_FQTERMS = re.compile(rf"(?:{_GAP}{_FSIGNS}{_GAP}{_FQTERM}){{0,{_CHUNK}}}", _A)  # more terms inside [ ]
_FFIRST = re.compile(rf"{_GAP}(?:{_FSIGNS}{_GAP})?{_FTERM}", _A)
_FQFIRST = re.compile(rf"{_GAP}(?:{_FSIGNS}{_GAP})?{_FQTERM}", _A)
_FOPEN_FIRST, _FOPEN = re.compile(rf"{_GAP}(?:\+{_GAP})?\[", _A), re.compile(rf"{_GAP}\+{_GAP}\[", _A)
_FCLOSE = (re.compile(rf"{_GAP}\]", _A), re.compile(rf"{_GAP}\]{_FHALF}", _A))  # in a constraint, in the objective
_FSMALL_BRACKET = rf"\[{_GAP}(?:(?:{_FSIGNS}{_GAP})?{_FQTERM}(?:{_GAP}{_FSIGNS}{_GAP}{_FQTERM}){{0,{_SMALL}}}{_GAP})?\]"
_FSMALL_EXPRESSION = (
    rf"(?:(?:\+{_GAP})?{_FSMALL_BRACKET}|(?:{_FSIGNS}{_GAP})?{_FTERM})"
    rf"(?:{_GAP}(?:\+{_GAP}{_FSMALL_BRACKET}|{_FSIGNS}{_GAP}{_FTERM})){{0,{_SMALL}}}"
)
_FCONSTRAINTS = re.compile(rf"(?:{_GAP}(?:{_FLABEL}{_GAP})?{_FSMALL_EXPRESSION}{_GAP}{_FRHS}){{0,{_CHUNK}}}", _A)  # short ones
_FCONSTRAINT_LABEL = re.compile(rf"{_GAP}(?:{_FLABEL})?", _A)
_FCONSTRAINT_RHS = re.compile(rf"{_GAP}{_FRHS}", _A)
_FBOUNDS = re.compile(
    rf"(?:{_GAP}(?:{_FVAR}{_GAP}(?:(?i:free){_END_NAME}(?!{_GAP}:)|{_FRHS})"
    rf"|(?:{_FSIGNS}{_GAP})?{_FNUM}{_GAP}(?:<{_GAP}={_GAP}{_FVAR}(?:{_GAP}<{_GAP}={_GAP}(?:{_FSIGNS}{_GAP})?{_FNUM})?|(?:>{_GAP}=|=){_GAP}{_FVAR}))){{0,{_CHUNK}}}",
    _A,
)
_FOTHER = re.compile(rf"(?:{_GAP}(?:{_FNAME}|{_FNUM}|[\[\]<>=:+^*\-])){{0,{_CHUNK}}}", _A)  # Binary, General, End: names
_FSECTION = re.compile(
    r"(?:((?i:min(?:imize|imum)?))|((?i:max(?:imize|imum)?))"
    rf"|((?i:subject){_END_NAME}{_GAP}(?i:to)|(?i:such){_END_NAME}{_GAP}(?i:that)|(?i:st|s\.t\.))"
    r"|((?i:bounds?))|((?i:binary|binaries|bin|generals?|gen|integers?|end)))" + _END_NAME,
    _A,
)
_FGROUPS = ("", "min", "max", "st", "bounds", "other")  # by the group of _FSECTION that matched
_GAP_RE = re.compile(_GAP, _A)
_UNDECIDED = "?"  # the fast path leaves the text to the exact path


def _end(regex: re.Pattern[str], text: str, pos: int) -> int:
    """Where the match of ``regex`` (which may match nothing, so it always matches) at ``pos`` ends."""
    match = regex.match(text, pos)
    assert match is not None, "the regex matches the empty string"
    return match.end()


def _repeat(regex: re.Pattern[str], text: str, pos: int) -> int:
    """Where repeated matches of ``regex`` (which may match nothing) stop."""
    while True:
        end = _end(regex, text, pos)
        if end == pos:
            return pos
        pos = end


def _fexpression(text: str, pos: int, objective: bool) -> int:
    """The end of the expression at ``pos`` (``pos`` if there is none; -1 if a bracket in it does not parse)."""
    term = _FFIRST.match(text, pos)
    if term is not None:
        pos = _repeat(_FTERMS, text, term.end())
        opening = _FOPEN.match(text, pos)
    else:
        opening = _FOPEN_FIRST.match(text, pos)
    while opening is not None:  # [ quadratic terms ], then more linear terms
        pos = opening.end()
        quadratic = _FQFIRST.match(text, pos)
        if quadratic:
            pos = _repeat(_FQTERMS, text, quadratic.end())
        closing = _FCLOSE[objective].match(text, pos)
        if closing is None:
            return -1
        pos = _repeat(_FTERMS, text, closing.end())
        opening = _FOPEN.match(text, pos)
    return pos


def _fbody(kind: int, text: str, pos: int) -> int:
    """The end of a section's body at ``pos`` (up to the next keyword or the end), or -1."""
    if kind <= 2:  # the objective: [label:] expression
        pos = _fexpression(text, _end(_FLEAD, text, pos), objective=True)
    elif kind == 3:  # constraints
        while pos >= 0:
            pos = _repeat(_FCONSTRAINTS, text, pos)
            start = _end(_FCONSTRAINT_LABEL, text, pos)  # a long constraint, or none
            end = _fexpression(text, start, objective=False)
            rhs = _FCONSTRAINT_RHS.match(text, end) if end > start else None
            if rhs is None:
                break
            pos = rhs.end()
    else:
        pos = _repeat(_FBOUNDS if kind == 4 else _FOTHER, text, pos)
    ahead = _FNEXT.match(text, pos) if pos >= 0 else None
    return ahead.end() if ahead else -1


def _fast(text: str) -> str | None:
    """The objective sense if the fast path accepts ``text``; ``_UNDECIDED`` otherwise."""
    pos, size = _end(_GAP_RE, text, 0), len(text)
    seen: set[str] = set()
    sense = None
    while pos < size:
        keyword = _FSECTION.match(text, pos)
        if keyword is None:
            return _UNDECIDED
        kind = keyword.lastindex
        if kind is None:
            return _UNDECIDED
        pos = _fbody(kind, text, keyword.end())
        if pos < 0:
            return _UNDECIDED
        group = _FGROUPS[kind]
        nonempty = _end(_GAP_RE, text, keyword.end()) != pos
        if group in ("min", "max"):
            sense = group if nonempty or sense is None else sense
            group = "objective"
        if nonempty and group != "other":
            if group in seen:
                return _UNDECIDED
            seen.add(group)
    return sense


# ------------------------------------------------------------------ the exact path
def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _tokens(text: str) -> tuple[list[Tok], list[int]]:
    """The reader's tokens as ``(kind, text, offset)``, an end-of-text token last; and the indices of the keywords."""
    out: list[Tok] = []
    keywords: list[int] = []
    append = out.append
    pos: int | None = 0
    while pos is not None:
        resume, pos = pos, None
        for m in _TOKEN.finditer(text, resume):
            g = m.lastindex
            if g == 12 or g == 1 or g == 13 or g == 15 or g == 10:
                append((_KINDS[g], m[g], m.start(g)))
            elif g == 17:
                append((m[17], m[17], m.start(17)))
            elif g == 14:
                append(("cmp", m[14] + "=", m.start(14)))
            elif g == 8:
                keywords.append(len(out))
                append(("kw", m[8], m.start(8)))
            elif g == 3 or g == 5 or g == 7:
                keywords.append(len(out))
                append(("kw", m[g - 1] + ("-" if g == 3 else " ") + m[g], m.start(g - 1)))
            elif g == 11:
                append(("free", m[11], m.start(11)))
            elif g == 9:
                append(("::", m[9] + "::", m.start(9)))
            elif g == 16:  # /* comment */, skipped two raw tokens at a time as the reader does
                pos = _comment_end(text, m.start(16), m.end())
                break
            else:  # the end of the text
                break
    append(("eof", "", out[-1][2] if out else 0))
    return out, keywords


def _comment_end(text: str, start: int, pos: int) -> int:
    """Where the reader resumes after the /* comment at ``start`` (``pos``: after its ``*``)."""
    raw = _RAW.finditer(text, pos)
    for first in raw:
        second = next(raw, None) if first.lastindex is not None else None
        if second is None or second.lastindex is None:
            break
        if first[1] == "*" and second[1] == "/":
            return second.end()
    # an odd number of tokens inside: the reader misses the end and drops the rest of the file
    raise LpSyntaxError(_line(text, start), "the LP reader does not see the end of this /* comment */ (it skips to the end of the file); use a '\\' comment")


def describe(tok: Tok) -> str:
    """A token (``(kind, text, ...)``) as an error message shows it."""
    kind, text = tok[0], tok[1]
    if kind == "eof":
        return "the end of the file"
    if kind == "label":
        return f"the label '{text[:40]}:'"
    return repr(text if len(text) <= 40 else text[:40] + "...")


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
    """A cursor over the tokens ``toks[i:stop]`` of one section; ``toks[stop]`` (a keyword, or the end) follows it."""

    __slots__ = ("toks", "i", "stop", "end", "text")

    def __init__(self, toks: list[Tok], start: int, stop: int, text: str) -> None:
        self.toks = toks
        self.i = start
        self.stop = stop
        self.end = toks[stop]
        self.text = text

    def peek(self, ahead: int = 0) -> Tok:
        j = self.i + ahead
        return self.toks[j] if j < self.stop else self.end

    def take(self) -> Tok:
        j = self.i
        self.i = j + 1
        return self.toks[j] if j < self.stop else self.end

    def error(self, tok: Tok, reason: str) -> LpSyntaxError:
        return LpSyntaxError(_line(self.text, tok[2]), reason)

    def signs(self) -> tuple[Tok | None, float]:
        """Skip one or two signs; the first and the product (+1.0 when there are none)."""
        toks, stop, end, i = self.toks, self.stop, self.end, self.i
        first, sign, count = None, 1.0, 0
        while True:
            tok = toks[i] if i < stop else end
            if tok[0] != "sign":
                break
            i += 1
            first = first or tok
            if tok[1] == "-":
                sign = -sign
            count += 1
            if count > 2:
                self.i = i
                raise self.error(tok, f"three signs in a row at {describe(tok)}")
        self.i = i
        return first, sign

    def signed_number(self) -> float | None:
        """``[sign [sign]] number`` -> its value; None (nothing taken) if no number follows."""
        start = self.i
        _, sign = self.signs()
        if self.peek()[0] != "num":
            self.i = start
            return None
        return sign * value(self.take()[1])


def _expression(p: _Parser, where: str, objective: bool) -> None:
    """Terms joined by signs: ``[sign] term {sign term}``; stops at the first token that is no part of one."""
    toks, stop, end = p.toks, p.stop, p.end
    i = p.i
    terms, pending, sign = 0, None, 1.0  # pending: the sign still waiting for its term
    while True:
        tok = toks[i] if i < stop else end
        kind = tok[0]
        if kind == "sign":
            p.i = i
            pending, sign = p.signs()
            i = p.i
            continue
        if kind != "name" and kind != "num" and kind != "[":
            break
        if terms and pending is None:
            raise p.error(tok, f"missing '+' or '-' before {describe(tok)}")
        if kind == "num":  # 3 x or 3
            nxt = toks[i + 1][0] if i + 1 < stop else end[0]
            if nxt == "[":
                raise p.error(tok, f"a number before '[': write the coefficients inside the brackets ({where})")
            i += 2 if nxt == "name" else 1
        elif kind == "[":
            if pending is not None and sign < 0:
                raise p.error(tok, "'-' before '[' is not allowed: put the signs on the terms inside the brackets")
            p.i = i + 1
            _bracket(p, tok, objective)
            i = p.i
        else:
            i += 1
        terms, pending = terms + 1, None
    p.i = i
    if pending is not None:
        raise p.error(pending, f"{where} has a {pending[1]!r} with no term after it (before {describe(p.peek())})")


def _bracket(p: _Parser, opening: Tok, objective: bool) -> None:
    """``[ qterm {sign qterm} ]`` (then ``/ 2`` in the objective); the ``[`` is taken."""
    terms, pending = 0, None
    while True:
        tok = p.peek()
        kind = tok[0]
        if kind == "]":
            break
        if kind == "sign":
            pending, _ = p.signs()
            continue
        if kind == "eof" or kind == "kw":
            raise p.error(opening, "'[' without a closing ']'")
        if terms and pending is None:
            raise p.error(tok, f"missing '+' or '-' before {describe(tok)} inside [ ]")
        _quadratic_term(p)
        terms, pending = terms + 1, None
    if pending is not None:
        raise p.error(pending, f"a {pending[1]!r} with no term after it (before ']')")
    closing = p.take()
    if objective:
        if p.peek()[0] != "/" or (p.take(), p.signed_number())[1] != 2.0:
            raise p.error(closing, "quadratic terms in the objective end with ']/2' (write [ 2 x * y ]/2 for x*y)")


def _quadratic_term(p: _Parser) -> None:
    """``[number] x * y`` or ``[number] x ^ 2``."""
    if p.peek()[0] == "num":
        p.i += 1
    tok = p.take()
    if tok[0] != "name":
        raise p.error(tok, f"expected a variable inside [ ], got {describe(tok)}")
    op = p.take()
    if op[0] == "*":
        other = p.take()
        if other[0] != "name":
            raise p.error(other, f"expected a variable after '*', got {describe(other)}")
    elif op[0] == "^":
        if p.signed_number() != 2.0:
            raise p.error(op, "only squares can be written with '^' (x ^ 2)")
    else:
        raise p.error(op, f"a term inside [ ] is a product 'x * y' or a square 'x ^ 2', got {describe(op)} after {describe(tok)}")


def _objective(p: _Parser) -> None:
    """``[label:] expression``, and nothing else."""
    if p.peek()[0] == "label":
        p.i += 1
    _expression(p, "the objective", objective=True)
    tok = p.peek()
    if tok is p.end:
        return
    if tok[0] in ("*", "^"):
        raise p.error(tok, _PRODUCT)
    if tok[0] in ("cmp", "label"):
        raise p.error(tok, f"{describe(tok)} in the objective: is 'Subject To' missing before it?")
    raise p.error(tok, f"unexpected {describe(tok)} in the objective")


def _constraints(p: _Parser) -> None:
    """``[label:] expression sense [sign] number``, one after another."""
    rhs = None  # the right-hand side of the constraint before
    while p.i < p.stop:
        first = p.toks[p.i]
        try:
            rhs = _constraint(p)
        except LpSyntaxError as exc:
            if rhs is not None and first[0] != "label" and _line(p.text, first[2]) == _line(p.text, rhs[2]):  # c: x <= 1 + 1
                raise p.error(first, f"{describe(first)} after the right-hand side of a constraint (it is one number)") from None
            raise exc


def _constraint(p: _Parser) -> Tok:
    """One constraint; its right-hand side number."""
    first = p.peek()
    if first[0] == "label":
        p.i += 1
    _expression(p, "this constraint", objective=False)
    tok = p.peek()
    if tok[0] in ("*", "^"):
        raise p.error(tok, _PRODUCT)
    if tok is p.end or tok[0] == "label":
        raise p.error(first, "this constraint has no sense and right-hand side (e.g. '<= 3')")
    if tok[0] != "cmp":
        raise p.error(tok, f"unexpected {describe(tok)} in this constraint")
    if tok[1] not in _SENSES:
        raise p.error(tok, f"{tok[1]!r} is not a constraint sense: use <=, >= or =")
    p.i += 1
    if p.signed_number() is None:
        raise p.error(tok, f"this constraint has no right-hand side number after {tok[1]!r} (got {describe(p.peek())})")
    return p.toks[p.i - 1]


def _bounds(p: _Parser) -> None:
    """``x free``, ``l <= x <= u``, ``l <= x``, ``x <= u``, ``x >= l``, ``x = v``; signs only before numbers."""
    while p.i < p.stop:
        first = p.take()
        if first[0] == "name" and p.peek()[0] == "free":
            p.i += 1
            continue
        if first[0] == "name":  # x <= u, x >= l, x = v
            _bound_number(p, _bound_sense(p))
            continue
        p.i -= 1
        if p.signed_number() is None:
            raise p.error(first, f"cannot read a bound starting at {describe(first)}")
        sense = _bound_sense(p)
        name = p.take()
        if name[0] != "name":
            raise p.error(name, f"expected a variable after {sense[1]!r} in this bound, got {describe(name)}")
        if p.peek()[0] == "cmp":  # l <= x <= u
            upper = _bound_sense(p)
            if sense[1] != "<=" or upper[1] != "<=":
                raise p.error(upper, "write a two-sided bound as 'lower <= x <= upper'")
            _bound_number(p, upper)


def _bound_sense(p: _Parser) -> Tok:
    """The sense of a bound: ``<=``, ``>=`` or ``=``."""
    sense = p.take()
    if sense[0] != "cmp" or sense[1] not in _SENSES:
        raise p.error(sense, f"expected <=, >= or = in this bound, got {describe(sense)}")
    return sense


def _bound_number(p: _Parser, sense: Tok) -> None:
    """The number after a bound's sense (a sign only in front of a number)."""
    sign = p.peek()
    if p.signed_number() is None:
        if sign[0] == "sign":
            raise p.error(sign, f"this bound has a {sign[1]!r} with no number after it (before {describe(p.peek(1))})")
        raise p.error(sense, f"expected a number after {sense[1]!r} in this bound, got {describe(sign)}")


def _check_exact(text: str) -> str | None:
    """The check token by token (every refusal comes from here)."""
    toks, starts = _tokens(text)
    if len(toks) > 1 and toks[0][0] != "kw":
        raise LpSyntaxError(_line(text, toks[0][2]), f"{describe(toks[0])} before the first section (Minimize, Maximize or Subject To)")
    seen: dict[str, Tok] = {}  # the first non-empty objective, constraints and bounds sections
    sense = None
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else len(toks) - 1
        keyword, nonempty = toks[start], stop > start + 1
        kind = _KEYWORDS[keyword[1].lower()]
        group = "objective" if kind in ("min", "max") else kind
        if group in ("objective", "st", "bounds") and nonempty:  # the reader skips an empty section
            if group in seen:
                raise LpSyntaxError(_line(text, keyword[2]), f"a second {'objective' if group == 'objective' else repr(keyword[1])} section (the first is on line {_line(text, seen[group][2])})")
            seen[group] = keyword
        parser = _Parser(toks, start + 1, stop, text)
        if group == "objective":
            sense = kind if nonempty or sense is None else sense
            _objective(parser)
        elif kind == "st":
            _constraints(parser)
        elif kind == "bounds":
            _bounds(parser)
    return sense


def check(text: str) -> str | None:
    """Raise :class:`LpSyntaxError` where ``text`` breaks the grammar; the objective sense (None: no objective)."""
    if "\0" in text:
        raise LpSyntaxError(text.count("\n", 0, text.index("\0")) + 1, "a NUL character")
    sense = _fast(text)
    return _check_exact(text) if sense == _UNDECIDED else sense
