"""Evaluation of Vraagbaak against the hand-written gold set (``eval/gold.jsonl``).

Kept apart from the answering code so the yardstick never changes together with what it
measures: ``gold`` reads the set, ``metrics`` holds the pure scoring rules, ``run``
answers every question and writes a run file, ``compare`` decides whether a run regressed
against another, ``report`` renders both for people (Markdown and the terminal).
Heavy imports (torch, the index) happen only in ``run``, so comparing two saved run
files stays instant.
"""
