"""A damaged index is refused with a Dutch message that names the rebuild command.

Each case copies the session demo index and breaks it in one way: a truncated file,
flipped bytes, a deleted file, garbage or the wrong shape in manifest.json, a CURRENT
pointer to nothing, to garbage or out of the index directory. ``Index.load`` must raise
``IndexProblem`` (never answer from damaged data, never a KeyError); ``vraagbaak serve``
must exit non-zero without ever listening, and ``vraagbaak ask`` must print the message,
without a traceback.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers_reliability import ROOT, child_env, free_port, one_line, port_is_listening

REBUILD = "vraagbaak ingest"


def _truncate(path: Path, keep: float = 0.5) -> None:
    with open(path, "r+b") as f:
        f.truncate(int(path.stat().st_size * keep))


def _flip(path: Path, n: int = 16) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    for i in range(mid, mid + n):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) - 7] ^= 0x01
    path.write_bytes(bytes(data))


def _manifest(gen: Path) -> dict:
    return json.loads((gen / "manifest.json").read_text(encoding="utf-8"))


def _resign(gen: Path, name: str) -> None:
    """Damage that a checksum cannot see: the manifest is updated to match."""
    manifest = _manifest(gen)
    manifest["files"][name] = hashlib.sha256((gen / name).read_bytes()).hexdigest()
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _resigned_garbage_chunks(idx: Path, gen: Path) -> None:
    (gen / "chunks.jsonl").write_text('{"id": "x"}\nniet eens json\n', encoding="utf-8")
    _resign(gen, "chunks.jsonl")


def _resigned_fewer_chunks(idx: Path, gen: Path) -> None:
    lines = (gen / "chunks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (gen / "chunks.jsonl").write_text("".join(lines[:-3]), encoding="utf-8")
    _resign(gen, "chunks.jsonl")


def _resigned_short_plain_vectors(idx: Path, gen: Path) -> None:
    import numpy as np

    vectors = np.load(gen / "plain_vectors.npy")
    np.save(gen / "plain_vectors.npy", vectors[:-1])
    _resign(gen, "plain_vectors.npy")


def _future_format(idx: Path, gen: Path) -> None:
    manifest = _manifest(gen)
    manifest["format_version"] = 99
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


DAMAGE = {
    "truncate chunks.jsonl to half": lambda idx, gen: _truncate(gen / "chunks.jsonl"),
    "truncate documents.jsonl to 0 bytes": lambda idx, gen: _truncate(
        gen / "documents.jsonl", 0),
    "flip 16 bytes in dense.faiss": lambda idx, gen: _flip(gen / "dense.faiss"),
    "flip one bit in sentence_vectors.npy": lambda idx, gen: _flip_one_bit(
        gen / "sentence_vectors.npy"),
    "delete bm25/vocab.index.json": lambda idx, gen: (gen / "bm25" / "vocab.index.json"
                                                      ).unlink(),
    "delete chunk_vectors.npy": lambda idx, gen: (gen / "chunk_vectors.npy").unlink(),
    "delete plain_vectors.npy": lambda idx, gen: (gen / "plain_vectors.npy").unlink(),
    "plain_vectors.npy one row short, checksum re-signed": _resigned_short_plain_vectors,
    "garbage bytes in manifest.json": lambda idx, gen: (gen / "manifest.json").write_bytes(
        b"\x89PNG\r\n\x1a\n\x00\xff garbage {"),
    "manifest.json is a JSON list": lambda idx, gen: (gen / "manifest.json").write_text(
        "[1, 2, 3]"),
    "manifest.json lacks embedder and files": lambda idx, gen: (
        gen / "manifest.json").write_text('{"format_version": 1}'),
    "manifest.json deleted": lambda idx, gen: (gen / "manifest.json").unlink(),
    "manifest from a future format": _future_format,
    "CURRENT points to a missing generation": lambda idx, gen: (idx / "CURRENT").write_text(
        "gen-20991231T235959-000000000\n"),
    "CURRENT holds binary garbage": lambda idx, gen: (idx / "CURRENT").write_bytes(
        b"\xff\xfe\x00\x01gen"),
    "CURRENT points outside the index": lambda idx, gen: (idx / "CURRENT").write_text(
        "../../../etc\n"),
    "CURRENT is empty": lambda idx, gen: (idx / "CURRENT").write_text(""),
    "generation directory deleted": lambda idx, gen: shutil.rmtree(gen),
    "chunks.jsonl garbage, checksum re-signed": _resigned_garbage_chunks,
    "chunks.jsonl 3 lines short, checksum re-signed": _resigned_fewer_chunks,
}
CLI_CASES = ["truncate chunks.jsonl to half", "garbage bytes in manifest.json",
             "CURRENT points to a missing generation", "CURRENT holds binary garbage",
             "manifest.json lacks embedder and files"]
SERVE_CASES = ["flip 16 bytes in dense.faiss", "CURRENT points to a missing generation",
               "manifest.json is a JSON list"]


def _is_dutch_rebuild_message(message: str) -> bool:
    text = one_line(message)
    dutch = any(w in text for w in ("beschadigd", "Bouw de index opnieuw", "Maak er een",
                                    "formaatversie", "inconsistent", "kan niet worden"))
    return dutch and REBUILD in text


@pytest.fixture(scope="module")
def demo_dir(settings, demo_build) -> Path:
    return settings.index_dir


def broken_copy(demo_dir: Path, where: Path, case: str) -> Path:
    idx = where / "kapot"
    shutil.copytree(demo_dir, idx, ignore=shutil.ignore_patterns(".build.lock", "*.tmp"))
    gen = idx / (idx / "CURRENT").read_text(encoding="utf-8").strip()
    DAMAGE[case](idx, gen)
    return idx


@pytest.mark.parametrize("case", list(DAMAGE))
def test_index_load_refuses_damage_in_dutch(case, demo_dir, tmp_path, settings, embedder):
    from index import Index, IndexProblem

    idx = broken_copy(demo_dir, tmp_path, case)
    with pytest.raises(IndexProblem) as exc:
        Index.load(idx, settings.model_copy(update={"index_dir": idx}), embedder=embedder)
    message = str(exc.value)
    assert _is_dutch_rebuild_message(message), message
    assert str(idx) in message
    print(f"{case}: {message}")


@pytest.mark.timeout(900)  # includes the session demo build when run alone
@pytest.mark.parametrize("case", CLI_CASES)
def test_cli_ask_prints_the_dutch_message_and_fails(case, demo_dir, tmp_path):
    idx = broken_copy(demo_dir, tmp_path, case)
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "vraagbaak.cli", "ask", "wat is streettriage",
         "--index", str(idx)],
        cwd=ROOT, env=child_env(tmp_path), capture_output=True, text=True, timeout=150)
    seconds = time.perf_counter() - t0
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr
    assert one_line(proc.stderr).startswith("Fout:"), proc.stderr
    assert _is_dutch_rebuild_message(proc.stderr), proc.stderr
    assert proc.stdout.strip() == ""
    print(f"ask on '{case}': rc={proc.returncode} in {seconds:.1f} s")


@pytest.mark.timeout(900)
def test_cli_batch_and_search_fail_the_same_way(demo_dir, tmp_path):
    idx = broken_copy(demo_dir, tmp_path, "truncate chunks.jsonl to half")
    batch = tmp_path / "vragen.jsonl"
    batch.write_text('{"id": 1, "question": "wat is streettriage"}\n', encoding="utf-8")
    for args in (["ask", "--batch", str(batch)], ["search", "streettriage"]):
        proc = subprocess.run(
            [sys.executable, "-m", "vraagbaak.cli", *args, "--index", str(idx)],
            cwd=ROOT, env=child_env(tmp_path), capture_output=True, text=True, timeout=150)
        assert proc.returncode != 0, args
        assert "Traceback" not in proc.stderr and _is_dutch_rebuild_message(proc.stderr)
        assert proc.stdout.strip() == "", (args, proc.stdout)


@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", SERVE_CASES)
def test_serve_refuses_to_start_and_never_listens(case, demo_dir, tmp_path):
    idx = broken_copy(demo_dir, tmp_path, case)
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vraagbaak.cli", "serve", "--index", str(idx),
         "--port", str(port)],
        cwd=ROOT, env=child_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    listened = False
    try:
        while proc.poll() is None and time.perf_counter() - t0 < 240:
            listened = listened or port_is_listening(port)
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
        stdout, stderr = proc.communicate(timeout=30)
    seconds = time.perf_counter() - t0
    assert proc.returncode not in (None, 0, -9), (proc.returncode, stderr)
    assert not listened and not port_is_listening(port)
    assert "Traceback" not in stderr, stderr
    assert _is_dutch_rebuild_message(stderr), stderr
    assert "draait op" not in stderr + stdout
    assert seconds < 120, f"serve took {seconds:.0f} s to refuse"
    print(f"serve on '{case}': rc={proc.returncode} after {seconds:.1f} s, never listened")


@pytest.mark.parametrize("case", ["CURRENT holds binary garbage", "truncate chunks.jsonl to half",
                                  "manifest.json is a JSON list"])
def test_the_named_rebuild_repairs_the_damage(case, demo_dir, tmp_path, settings, embedder):
    """What the message tells the user to do works, also on a damaged directory."""
    from index import Index, build_index
    from index.store import current_generation

    idx = broken_copy(demo_dir, tmp_path, case)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kort.md").write_text(
        "# Reparatie\n\nDe index is na de schade opnieuw opgebouwd uit een klein document "
        "met precies deze zin over het herstel.\n", encoding="utf-8")
    local = settings.model_copy(update={"index_dir": idx})
    report = build_index(corpus, idx, local, embedder=embedder, rebuild=True)
    assert current_generation(idx) == idx / report.generation
    index = Index.load(idx, local, embedder=embedder)
    assert [d.source for d in index.documents] == ["kort.md"]
    assert not list(idx.glob("gen-*.tmp"))


@pytest.mark.timeout(900)
def test_message_is_printed_literally_and_the_command_stays_copyable(demo_dir, tmp_path):
    """A path with Rich markup in it ("[/b]", "[concept]") and longer than a terminal line:
    the CLI prints it as is, on one line, so the rebuild command can be pasted."""
    where = tmp_path / ("map [concept] [/b] " + "lang" * 20)  # "[" / "b] lang...": two dirs
    where.mkdir(parents=True)
    idx = broken_copy(demo_dir, where, "CURRENT holds binary garbage")
    proc = subprocess.run(
        [sys.executable, "-m", "vraagbaak.cli", "ask", "wat is streettriage",
         "--index", str(idx)],
        cwd=ROOT, env=child_env(tmp_path), capture_output=True, text=True, timeout=150)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "MarkupError" not in proc.stderr
    assert f"{REBUILD} <map> --index {idx} --rebuild" in proc.stderr, proc.stderr
