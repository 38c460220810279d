"""Typo repair for questions, against the corpus's own words.

Staff type fast: "geregisteerd", "zaaksyteem", "woonvsie". BM25 matches no such term and
the embedder reads it as other word pieces, so a fact that is in the documents is not
found. A question word that is neither a corpus word nor a Dutch word is replaced by the
closest corpus word one edit away. The Dutch word list (pyspellchecker's) is what keeps
valid words the corpus happens to lack as they are: "waarom" must not become "daarom",
nor "betalen" "bepalen". A name written with a capital is left alone: a place the corpus
does not know is not a typo of one it does. Question words ("wnneer", "hoeveeel") are
repaired from the Dutch list instead: they are seldom in the corpus, and the answerer
reads the question's type from them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import cached_property

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from index.analyzer import STOPWORDS, words

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


class Speller:
    def __init__(self, vocabulary: Iterable[str], knows: Callable[[str], bool],
                 min_chars: int, max_edits: int):
        self._choices = sorted(vocabulary)  # lowercased, accent-folded corpus words
        self._knows = knows  # whether the index has a (folded) word as a term
        self.min_chars = min_chars
        self.max_edits = max_edits

    @cached_property
    def _dutch(self):
        from spellchecker import SpellChecker  # 0.2 s and 80 MB: only once a word is odd

        return SpellChecker(language="nl", distance=1)

    def correct(self, question: str) -> str:
        """The question with its typos replaced by corpus words; unchanged if it has none."""
        return _WORD.sub(lambda m: self._word(m.group(0), m.start() == 0), question)

    def _word(self, word: str, first: bool) -> str:
        folded = "".join(words(word))
        if (len(folded) < self.min_chars or self._knows(folded)
                or (word[0].isupper() and not first) or self._dutch.known([word.lower()])):
            return word
        found = process.extract(folded, self._choices, scorer=DamerauLevenshtein.distance,
                                score_cutoff=self.max_edits, limit=None)
        if not found:
            guess = self._dutch.correction(word.lower())
            return guess if guess in STOPWORDS else word
        # Fewest edits first; among equals the one that keeps the typed word's opening,
        # where typos are rarest.
        best = min(found, key=lambda f: (f[1], -len(os.path.commonprefix([f[0], folded])),
                                         f[0]))
        return best[0]
