"""The process-wide pipeline that the web UI and the REST API share.

Why one object: loading the model and index costs seconds and ~0.5 GB, so every request
thread uses the same ``QA``. After an upload the index is rebuilt and a *new* ``QA`` is
swapped in under a lock: requests already running finish on the old one (it lives in
memory), new requests see the new documents, and nobody ever sees a half-loaded index.

Where uploads go: an index mirrors exactly one corpus folder (an incremental build drops
documents that are no longer in the folder it is given). So uploads are stored *inside*
that folder, in ``<corpus_root>/uploads/``, and the incremental build of the whole
corpus root is re-run: unchanged documents are reused, only the new files are embedded,
and a later ``vraagbaak ingest <corpus_root>`` keeps them too. ``settings.upload_dir`` is
used when it lies inside the corpus root. The corpus root comes from the index manifest
(``corpus_root``) or is passed in explicitly.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from index import BuildProgress, Index, IndexProblem, build_index
from index.store import sha256_file
from qa import QA, Answer
from vraagbaak.feedback import FeedbackStore
from vraagbaak.uploads import UploadRejected, remove_stale_temps, save_upload

log = logging.getLogger(__name__)
UPLOAD_SUBDIR = "uploads"


class CallbackProgress(BuildProgress):
    """Build progress as one fraction 0..1 with a Dutch label (for gr.Progress)."""

    def __init__(self, report: Callable[[float, str], None]):
        self.report = report
        self.total_files = self.done_files = self.total_texts = self.done_texts = 0

    def files(self, total):
        self.total_files = total
        self.report(0.0, "Documenten lezen")

    def file_done(self, source, chunks, reused):
        self.done_files += 1
        self.report(0.3 * self.done_files / max(1, self.total_files), "Documenten lezen")

    def embedding(self, total):
        self.total_texts = total

    def embedded(self, n):
        self.done_texts += n
        self.report(0.3 + 0.6 * self.done_texts / max(1, self.total_texts), "Embedden")

    def writing(self):
        self.report(0.92, "Index wegschrijven")


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)  # sources now in the index
    # (client name, Dutch reason, HTTP status)
    rejected: list[tuple[str, str, int]] = field(default_factory=list)
    error: str | None = None  # the whole ingest failed; nothing was changed

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.added)


class Service:
    def __init__(self, settings, index: Index, corpus_root: Path | None = None):
        self.settings = settings
        self._qa = QA(index, settings)
        self._swap_lock = threading.Lock()
        self._ingest_lock = threading.Lock()
        root = corpus_root or index.manifest.get("corpus_root")
        self.corpus_root = Path(root).resolve() if root else None
        self.feedback = FeedbackStore(settings.feedback_file)

    # --- answering ----------------------------------------------------------------
    @property
    def qa(self) -> QA:
        with self._swap_lock:
            return self._qa

    @property
    def index(self) -> Index:
        return self.qa.index

    def ask(self, question: str) -> Answer:
        return self.qa.answer(question)

    # --- uploads ------------------------------------------------------------------
    def upload_unavailable(self) -> str | None:
        """Why uploads cannot work right now (Dutch), or None when they can."""
        if not getattr(self.settings, "upload_enabled", True):
            return "Uploaden is uitgeschakeld door de beheerder."
        if self.corpus_root is None:
            return ("Uploaden kan niet: de index vermeldt niet uit welke map hij is "
                    "gebouwd. Bouw hem opnieuw met 'vraagbaak ingest <map>'.")
        if not self.corpus_root.is_dir():
            return f"Uploaden kan niet: de documentenmap {self.corpus_root} bestaat niet meer."
        return None

    @property
    def upload_dir(self) -> Path | None:
        if self.corpus_root is None:
            return None
        configured = Path(self.settings.upload_dir).expanduser()
        if configured.is_absolute() and configured.resolve().is_relative_to(self.corpus_root):
            return configured.resolve()
        return self.corpus_root / UPLOAD_SUBDIR

    def add_documents(self, files: list[tuple[str, BinaryIO]],
                      progress: BuildProgress | None = None) -> UploadResult:
        """Store the files, re-run the incremental build, swap in the new index.

        A file that is refused or that ingest cannot read is removed again, and if the
        build fails as a whole all new files are removed: an upload either lands in the
        index or leaves no trace.
        """
        result = UploadResult()
        reason = self.upload_unavailable()
        if reason:
            result.error = reason
            return result
        dest = self.upload_dir
        with self._ingest_lock:
            remove_stale_temps(dest)
            saved: dict[str, tuple[str, Path]] = {}
            known = {m.get("content_hash"): src
                     for src, m in self.index.manifest.get("documents", {}).items()}
            for client_name, stream in files:
                try:
                    path = save_upload(stream, client_name, dest, self.settings)
                except UploadRejected as exc:
                    result.rejected.append((client_name, str(exc), exc.status))
                    continue
                source = path.relative_to(self.corpus_root).as_posix()
                digest = sha256_file(path)
                if digest in known:  # the same bytes twice would only duplicate answers
                    path.unlink()
                    result.rejected.append(
                        (client_name, f"staat al in de index als {known[digest]}", 409))
                    continue
                known[digest] = source
                saved[source] = (client_name, path)
            if not saved:
                return result
            embedder = self.index.embedder
            try:
                report = build_index(self.corpus_root, self.settings.index_dir, self.settings,
                                     embedder=embedder, progress=progress)
                fresh = Index.load(self.settings.index_dir, self.settings, embedder=embedder)
            except (IndexProblem, OSError) as exc:
                for _, path in saved.values():
                    path.unlink(missing_ok=True)
                result.error = f"De index is niet bijgewerkt: {exc}"
                return result
            for skipped in report.skipped:
                if skipped.source in saved:
                    client_name, path = saved.pop(skipped.source)
                    path.unlink(missing_ok=True)
                    result.rejected.append((client_name, skipped.reason, 422))
            with self._swap_lock:
                self._qa = QA(fresh, self.settings)
            result.added = sorted(saved)
            log.info("upload: %d documenten toegevoegd", len(saved))
        return result
