"""Dutch abbreviations and initials, after whose full stop a sentence goes on.

Shared by the sentence splitter and the line joiner: PDF text wraps lines anywhere, also
right after "mevrouw I." or "dhr.", and such a line ends no paragraph.
"""

from __future__ import annotations

import re

OPENERS = "\"'“‘(["
# fmt: off
ABBREVIATIONS = frozenset({
    "a.s", "aanv", "afd", "alg", "art", "bijv", "blz", "bv", "ca", "cf", "d.d", "d.i",
    "d.m.v", "d.w.z", "dhr", "dr", "drs", "e.a", "e.d", "e.e.a", "e.g", "e.v", "enz", "etc",
    "evt", "excl", "fig", "i.c", "i.e", "i.h.a", "i.o", "i.p.v", "i.s.m", "i.v.m", "incl",
    "ing", "ir", "jl", "jr", "m.b.t", "m.b.v", "m.i.v", "m.n", "max", "mevr", "min", "mln", "mld",
    "mr", "mw", "nl", "nr", "o.a", "o.b.v", "o.i.d", "o.l.v", "ong", "p", "pag", "plm",
    "prof", "red", "resp", "sr", "st", "t.a.v", "t.b.v", "t.o.v", "tel", "vgl", "vlg", "vnl",
    "vs", "zgn", "z.s.m", "jan", "feb", "mrt", "apr", "jun", "jul", "aug", "sep", "sept",
    "okt", "nov", "dec", "no", "vol",
})
# Abbreviations that often close a sentence ("enz.", "B.V.", "jr."): the splitter keeps
# them inside the sentence, but a line ending in one may well end its paragraph.
MAY_END = frozenset({
    "b.v", "bv", "n.v", "e.a", "e.d", "e.e.a", "e.v", "enz", "etc", "jl", "jr", "sr", "nl",
    "o.i.d", "red", "vol", "no", "p", "pag", "blz", "mln", "mld", "min", "max",
})
# fmt: on
_DOTTED = re.compile(r"(?:[^\W\d_]{1,3}\.)+[^\W\d_]{1,3}")  # "o.a", "J.W"


def _core(token: str) -> str:
    return token.lstrip(OPENERS).rstrip(".")


def is_abbreviation(token: str) -> bool:
    """A full stop after ``token`` ends no sentence ("o.a.", "K.", "1." as enumeration)."""
    core = _core(token)
    return (
        core.casefold() in ABBREVIATIONS
        or (len(core) == 1 and core.isalpha())  # initial: "K. Ollongren"
        or (core.isdigit() and len(core) <= 2)  # enumeration: "1. Gebiedsgericht"
        or _DOTTED.fullmatch(core) is not None
    )


def continues_after(token: str) -> bool:
    """A line ending in ``token`` (with its full stop) wraps a sentence: a title or an
    initial ("dhr.", "mevrouw I."), never a number or a word that may end one."""
    core = _core(token)
    if core.isdigit() or core.casefold() in MAY_END:
        return False
    if len(core) == 1:
        return core.isupper()  # "bijlage a." is rather an enumeration
    return is_abbreviation(token)
