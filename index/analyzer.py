"""Dutch text analysis for BM25 and lexical overlap.

Staff type "sportaal-opdracht", "woningabonnement", "trafohuisjes"; documents write
"opdracht aan Sportaal", "woning abonnement". So a token is lowercased, accent-folded
only where Dutch spelling varies (ë/e in "coöperatie"), stemmed with Snowball's Dutch
stemmer, hyphenated compounds yield their parts *and* the whole, and (optionally) long
closed compounds are split against the corpus vocabulary.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_DUTCH

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*", re.UNICODE)
_NUM_UNIT = re.compile(r"(\d+)([a-z]+)")
_STEMMER = Stemmer.Stemmer("dutch")
# Question words are stop words for matching but carry the question type for the answerer.
STOPWORDS = frozenset(STOPWORDS_DUTCH) | {
    "wanneer", "hoeveel", "waarom", "welke", "welk", "wat", "wie", "hoe", "waar",
    "gaat", "gaan", "moet", "moeten", "kan", "kunnen", "vd", "v", "d", "de", "het", "een",
}
MIN_PART = 4  # shortest compound part worth splitting off
# Stored in each index: one built by another analyzer has its BM25 terms rebuilt on load.
ANALYZER_VERSION = 2  # 2: ordinals in digits ("2e") read as the word ("tweede")
# Staff type "2e auto", "4e kwartaal"; documents spell "tweede auto", "vierde kwartaal".
_ORDINAL = re.compile(r"(\d{1,2})(?:e|de|ste)")
_ORDINALS = (
    "eerste", "tweede", "derde", "vierde", "vijfde", "zesde", "zevende", "achtste", "negende",
    "tiende", "elfde", "twaalfde", "dertiende", "veertiende", "vijftiende", "zestiende",
    "zeventiende", "achttiende", "negentiende", "twintigste",
)


def _fold(token: str) -> str:
    decomposed = unicodedata.normalize("NFKD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def words(text: str) -> list[str]:
    """Lowercased, accent-folded surface words (hyphenated compounds kept whole)."""
    return [_fold(m.group(0).lower()) for m in _WORD.finditer(text)]


class Analyzer:
    """Turns text into BM25 terms; ``vocabulary`` enables closed-compound splitting."""

    def __init__(self, vocabulary: Iterable[str] = (), decompound: bool = False):
        self.decompound = decompound
        self.vocabulary = frozenset(w for w in vocabulary if len(w) >= MIN_PART)
        # "bouwkosten" splits into "bouw" + "kosten" when the corpus only has "bouwen":
        # a part may also be the stem of a corpus word.
        self.parts = self.vocabulary | {stem(w) for w in self.vocabulary}

    def terms(self, text: str) -> list[str]:
        out: list[str] = []
        for word in words(text):
            parts = [p for p in re.split(r"[-']", word) if p]
            if len(parts) > 1:
                out.append(stem(word.replace("-", "").replace("'", "")))
            for part in parts:
                if part in STOPWORDS or (len(part) < 2 and not part.isdigit()):
                    continue
                ordinal = _ORDINAL.fullmatch(part)
                if ordinal and 1 <= int(ordinal.group(1)) <= len(_ORDINALS):
                    out.append(stem(_ORDINALS[int(ordinal.group(1)) - 1]))
                    continue
                out.append(stem(part))
                mixed = _NUM_UNIT.fullmatch(part)
                if mixed:  # "6mln" also as "6" and "mln"
                    out.extend(g for g in mixed.groups())
                if self.decompound:
                    out.extend(stem(p) for p in self.split_compound(part))
        return out

    def split_compound(self, word: str) -> list[str]:
        """Split a closed compound into two corpus words ("woningabonnement")."""
        if len(word) < 2 * MIN_PART + 1 or not self.vocabulary:
            return []
        for i in range(len(word) - MIN_PART, MIN_PART - 1, -1):
            head, tail = word[:i], word[i:]
            if tail in self.parts:
                for h in (head, head[:-1] if head.endswith("s") else None):
                    if h and len(h) >= MIN_PART and h in self.parts:
                        return [h, tail]
        return []

