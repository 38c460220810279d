"""Append-only store for 👍/👎 feedback on answers (one JSON object per line).

Why this shape: feedback is the evidence for tuning the answerer and for accountability
("which answers did staff mark as wrong?"), so an acknowledged record must survive a
crash and no record may ever be rewritten. Hence the file is only ever opened with
O_APPEND (never truncated or rewritten), each record is a single ``write`` of one complete
line followed by ``fsync`` before we say "opgeslagen", and one process-wide lock per file
keeps concurrent writers (UI and REST threads) from interleaving lines.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

VERDICTS = ("up", "down")
MAX_COMMENT_CHARS = 2000
MAX_TEXT_CHARS = 20_000  # question/answer: bounded so a client cannot fill the disk
MAX_CITATIONS = 20

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class FeedbackError(ValueError):
    """Feedback that cannot be stored; the message is Dutch and shown to the user."""


def _lock_for(path: Path) -> threading.Lock:
    """The UI and the API may hold separate stores for one file: they share this lock."""
    key = path.expanduser().resolve()
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def make_record(question: str, answer: str, citations: list, verdict: str,
                comment: str | None = None) -> dict:
    """A validated feedback record; raises FeedbackError (Dutch) on bad input."""
    if verdict not in VERDICTS:
        raise FeedbackError("Het oordeel moet 'up' (👍) of 'down' (👎) zijn.")
    if not isinstance(question, str) or not question.strip():
        raise FeedbackError("Er is geen vraag om feedback op te geven.")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise FeedbackError(f"De toelichting is te lang (maximaal {MAX_COMMENT_CHARS} tekens).")
    if len(question) > MAX_TEXT_CHARS or len(answer or "") > MAX_TEXT_CHARS:
        raise FeedbackError("Vraag of antwoord is te lang om als feedback op te slaan.")
    if not isinstance(citations, list) or len(citations) > MAX_CITATIONS:
        raise FeedbackError(f"Geef hoogstens {MAX_CITATIONS} bronvermeldingen mee.")
    return {
        "question": question,
        "answer": answer or "",
        "citations": citations,
        "verdict": verdict,
        "comment": comment,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _ends_torn(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END) == 0:
                return False
            f.seek(-1, os.SEEK_END)
            return f.read(1) != b"\n"
    except FileNotFoundError:
        return False


class FeedbackStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = _lock_for(self.path)

    def append(self, record: dict) -> dict:
        """Durably append one record (see the module docstring for why it is done so)."""
        # ASCII only ("\u00eb"): a writer killed mid-write may tear a line at any byte, and
        # a torn "ë" would leave invalid UTF-8 in the middle of the file once the next
        # append closes the line off; every reader that decodes the file would fail
        data = (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if _ends_torn(self.path):
                # a writer killed mid-write left half a line: close it off, so this
                # record starts on a line of its own instead of being glued to it
                data = b"\n" + data
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        return record

    def add(self, question: str, answer: str, citations: list, verdict: str,
            comment: str | None = None) -> dict:
        return self.append(make_record(question, answer, citations, verdict, comment))
