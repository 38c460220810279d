"""Helpers for the reliability tests: real subprocesses, free ports, fault injection.

Run as a script this file is a *fault-injection wrapper* around real code paths:

    python tests/helpers_reliability.py cli ARGS...         # `vraagbaak ARGS...` with hooks
    python tests/helpers_reliability.py fake-build CORPUS IDX   # build_index, fake embedder
    python tests/helpers_reliability.py feedback-loop FILE      # append feedback forever
    python tests/helpers_reliability.py slow-upload DEST NAME   # save_upload, slow stream

Hooks are chosen with environment variables, so the process under test is the real CLI
or the real module, only observed (``VB_FAULT_STATUS``: append one line per build phase)
and, where a test must hit a narrow window, paused there (``VB_FAULT_PAUSE``) or killed
by itself with SIGKILL at an exact point (``VB_FAULT_KILL``). Nothing here is imported by
the application.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELPER = Path(__file__).resolve()
Q_MINISTER = "welke minister zou de city deal van het woningabonnement tekenen?"


# --- used by the tests -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def child_env(work: Path, **extra: str) -> dict[str, str]:
    """Environment for a child process: repo on the path, offline, no stray config."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VRAAGBAAK_")}
    env.update({
        "PYTHONPATH": str(ROOT),
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "VRAAGBAAK_CONFIG": str(work / "geen-config.toml"),
        "VRAAGBAAK_FEEDBACK_FILE": str(work / "feedback" / "feedback.jsonl"),
        "VRAAGBAAK_UPLOAD_DIR": str(work / "uploads"),
    })
    env.update(extra)
    return env


def wait_for(predicate: Callable[[], object], timeout: float, what: str,
             proc: subprocess.Popen | None = None, interval: float = 0.02) -> object:
    """Poll ``predicate`` until truthy; fail with ``what`` on timeout or if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process ended (rc={proc.returncode}) before: {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for: {what}")
        time.sleep(interval)


def kill_hard(proc: subprocess.Popen) -> int:
    """SIGKILL exactly this process (our own child) and reap it."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=30)


def status_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def signature(answer) -> tuple:
    """What must not change: found, the answer text and each citation's place and quote."""
    if isinstance(answer, dict):
        cites = tuple((c["source"], c["line_start"], c["line_end"], c["quote"])
                      for c in answer["citations"])
        return answer["found"], answer["answer"], cites
    cites = tuple((c.source, c.line_start, c.line_end, c.quote) for c in answer.citations)
    return answer.found, answer.text, cites


def generations(idx: Path) -> list[str]:
    return sorted(p.name for p in idx.glob("gen-*") if p.is_dir())


def one_line(text: str) -> str:
    """Rich wraps long messages at the console width; compare on collapsed whitespace."""
    return " ".join(text.split())


class FakeEmbedder:
    """Deterministic vectors without a model, for store-level crash tests (no torch)."""

    name = "fake"
    fingerprint = "fake|crash-test"
    dim = 8

    def _vec(self, text: str):
        import numpy as np

        rng = np.random.default_rng(abs(hash(text)) % (1 << 32))
        v = rng.standard_normal(self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_with_spans(self, texts, spans, progress=None):
        import numpy as np

        passages = np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, 8))
        spans_out = [np.stack([self._vec(t[a:b]) for a, b in s]).astype(np.float32)
                     if s else np.zeros((0, self.dim), np.float32)
                     for t, s in zip(texts, spans, strict=True)]
        if progress:
            progress(len(texts))
        return passages.astype(np.float32), spans_out

    def embed_passages(self, texts, progress=None):
        import numpy as np

        if progress:
            progress(len(texts))
        return (np.stack([self._vec(t) for t in texts]) if texts
                else np.zeros((0, self.dim), np.float32))

    def embed_query(self, text: str):
        return self._vec(text)


# --- the wrapper (runs in the child process) -------------------------------------------


def _mark(line: str) -> None:
    path = os.environ.get("VB_FAULT_STATUS")
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(line + "\n")
            f.flush()


def _pause(point: str) -> None:
    """Hold still at ``point`` so the test can SIGKILL us exactly there."""
    if os.environ.get("VB_FAULT_PAUSE") == point:
        _mark(f"paused:{point}")
        time.sleep(600)


def _suicide(point: str) -> None:
    if os.environ.get("VB_FAULT_KILL") == point:
        _mark(f"killing:{point}")
        os.kill(os.getpid(), signal.SIGKILL)


def _install_build_hooks() -> None:
    import index.build as build
    import index.store as store
    from index.build import BuildProgress

    def wrap(cls):
        orig = {n: getattr(cls, n) for n in ("files", "file_done", "embedding", "embedded",
                                             "writing")}

        def files(self, total):
            _mark(f"files:{total}")
            return orig["files"](self, total)

        def file_done(self, source, chunks, reused):
            r = orig["file_done"](self, source, chunks, reused)
            _mark(f"file_done:{source}:{chunks}:{int(reused)}")
            _pause("parse")
            return r

        def embedding(self, total):
            _mark(f"embedding:{total}")
            return orig["embedding"](self, total)

        def embedded(self, n):
            _mark(f"embedded:{n}")
            return orig["embedded"](self, n)

        def writing(self):
            _mark("writing")
            return orig["writing"](self)

        for name, fn in (("files", files), ("file_done", file_done), ("embedding", embedding),
                         ("embedded", embedded), ("writing", writing)):
            setattr(cls, name, fn)

    wrap(BuildProgress)
    try:
        from vraagbaak.progress import RichBuildProgress

        wrap(RichBuildProgress)
    except ImportError:  # pragma: no cover
        pass

    real_save_dense = build.save_dense

    def save_dense(*args, **kwargs):
        result = real_save_dense(*args, **kwargs)
        _mark("dense-written")
        _pause("write")
        return result

    build.save_dense = save_dense

    real_commit = store.commit_generation

    def commit_generation(idx_dir, tmp_gen, manifest):
        _suicide("commit-start")
        return real_commit(idx_dir, tmp_gen, manifest)

    store.commit_generation = commit_generation

    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        dst_name = Path(dst).name
        if dst_name == store.CURRENT:
            _suicide("before-current-replace")  # CURRENT.tmp written, not yet renamed
        real_replace(src, dst, *args, **kwargs)
        if dst_name.startswith("gen-") and not dst_name.endswith(".tmp"):
            _suicide("gen-renamed")  # a finished generation that CURRENT never named
        if dst_name == store.CURRENT:
            _suicide("current-replaced")  # committed; garbage collection not yet run

    os.replace = replace


def _feedback_loop(path: str) -> None:
    from vraagbaak.feedback import FeedbackStore

    store = FeedbackStore(Path(path))
    citations = [{"n": 1, "source": "a.txt", "quote": "ë" * 5000}]  # > a pipe buffer
    i = 0
    while True:
        store.add(f"vraag {i}", f"antwoord {i}", citations, "up" if i % 2 else "down",
                  f"opmerking {i}")
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        i += 1


class _SlowStream:
    """A client that sends 64 kB every 20 ms and never finishes by itself."""

    def __init__(self):
        self.sent = 0

    def read(self, n: int) -> bytes:
        time.sleep(0.02)
        self.sent += 1
        if self.sent == 5:
            _mark("upload-started")
        return b"Een regel tekst over de gemeente.\n" * 2000


def _slow_upload(dest: str, name: str) -> None:
    from vraagbaak.settings import Settings
    from vraagbaak.uploads import save_upload

    save_upload(_SlowStream(), name, Path(dest), Settings())


def _fake_build(corpus: str, idx: str) -> None:
    from index import build_index
    from vraagbaak.settings import Settings

    settings = Settings(index_dir=Path(idx))
    report = build_index(Path(corpus), Path(idx), settings, embedder=FakeEmbedder())
    _mark("done:" + json.dumps({"generation": report.generation}))


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "cli":
        _install_build_hooks()
        from vraagbaak.cli import app

        sys.argv = ["vraagbaak", *rest]
        app()
    elif mode == "fake-build":
        _install_build_hooks()
        _fake_build(*rest)
    elif mode == "feedback-loop":
        _feedback_loop(*rest)
    elif mode == "slow-upload":
        _slow_upload(*rest)
    else:  # pragma: no cover
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv[1:])
