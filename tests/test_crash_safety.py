"""Crash safety: SIGKILL a real ingest at every phase; readers never notice.

A small index (one demo document) is built first and a question answered from it. Then
`vraagbaak ingest` runs on a bigger corpus as a real subprocess and is killed: during
start-up, while parsing, while embedding and in the middle of writing the new generation.
Store-level kill points inside the commit (before the manifest, after the generation
rename, between CURRENT.tmp and CURRENT) are hit exactly by a child that kills itself
(see helpers_reliability.py). After every kill the old index loads and gives the same
answer with the same citation, CURRENT names an existing generation, and the next ingest
completes and removes the leftovers.

The feedback log and uploads are also killed mid-write: the log keeps only whole JSON
lines (at most the last one incomplete) and is never truncated; an interrupted upload
leaves no visible half file for ingest to pick up.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from helpers_reliability import (
    HELPER,
    Q_MINISTER,
    ROOT,
    child_env,
    generations,
    kill_hard,
    signature,
    status_lines,
    wait_for,
)

from conftest import DEMO

SMALL_DOC = "000_4905b858c5d87b03.txt"  # 30 chunks; the Minister Blok question
EXTRA_DOC = "003_70b9a87ca8a924a5.txt"  # 45 chunks: a few seconds of embedding
MODEL_LOAD_S = 240  # generous: the model loads in 5-25 s, on a busy 2-core box slower
EXTRA_MD = """# Onderhoud van fietspaden

De gemeente vernieuwt in het voorjaar de fietspaden langs de Singel. Tijdens de werkzaamheden
wordt het fietsverkeer omgeleid via de Kerkstraat. Bewoners krijgen vooraf een brief.

## Planning

De eerste fase start in maart en duurt ongeveer zes weken. De tweede fase volgt na de
zomervakantie, als de weersomstandigheden dat toelaten.
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory, settings, embedder):
    """An index of one demo document, a pristine copy of it, and the answer it gives."""
    from index import Index, build_index
    from qa import QA

    root = tmp_path_factory.mktemp("crash")
    small = root / "small"
    small.mkdir()
    shutil.copy(DEMO / SMALL_DOC, small / SMALL_DOC)
    idx = root / "idx"
    local = settings.model_copy(update={"index_dir": idx})
    build_index(small, idx, local, embedder=embedder)
    answer = QA(Index.load(idx, local, embedder=embedder), local).answer(Q_MINISTER)
    assert answer.found and answer.citations, answer.text
    assert answer.citations[0].source == SMALL_DOC
    pristine = root / "idx-pristine"
    shutil.copytree(idx, pristine)
    return SimpleNamespace(root=root, small=small, idx=idx, pristine=pristine,
                           settings=local, sig=signature(answer), gen=generations(idx)[0])


def _assert_old_index_intact(idx: Path, base, embedder, gen: str) -> None:
    """CURRENT names an existing committed generation and it answers as before."""
    from index import Index
    from index.store import current_generation
    from qa import QA

    pointer = (idx / "CURRENT").read_text(encoding="utf-8").strip()
    assert pointer == gen, f"CURRENT moved to {pointer}"
    assert (idx / pointer / "manifest.json").is_file()
    assert current_generation(idx) == idx / gen
    local = base.settings.model_copy(update={"index_dir": idx})
    index = Index.load(idx, local, embedder=embedder)
    assert index.path.name == gen
    assert signature(QA(index, local).answer(Q_MINISTER)) == base.sig


def _start_cli(base, corpus: Path, status: Path, hooks: bool = True, **fault: str):
    args = ["ingest", str(corpus), "--index", str(base.idx)]
    cmd = ([sys.executable, str(HELPER), "cli", *args] if hooks
           else [sys.executable, "-m", "vraagbaak.cli", *args])
    env = child_env(base.root, VB_FAULT_STATUS=str(status), **fault)
    log = open(status.with_suffix(".stderr"), "wb")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log)
    proc.log = log
    return proc


def _finish(proc) -> str:
    proc.log.close()
    return Path(proc.log.name).read_text(encoding="utf-8", errors="replace")


@pytest.mark.timeout(600)
def test_killed_cli_ingest_never_damages_the_committed_index(base, embedder, tmp_path):
    big = base.root / "big"
    big.mkdir()
    for name in (SMALL_DOC, EXTRA_DOC):
        shutil.copy(DEMO / name, big / name)
    (big / "fietspaden.md").write_text(EXTRA_MD, encoding="utf-8")
    gen = base.gen
    log: list[str] = []

    # 1. very early: the interpreter is still importing
    status = tmp_path / "early.status"
    proc = _start_cli(base, big, status, hooks=False)
    time.sleep(0.5)
    assert kill_hard(proc) == -9
    _finish(proc)
    _assert_old_index_intact(base.idx, base, embedder, gen)
    log.append("kill 0.5 s after start (imports): old index intact")

    # 2. while parsing: held right after the first document was read
    status = tmp_path / "parse.status"
    proc = _start_cli(base, big, status, VB_FAULT_PAUSE="parse")
    wait_for(lambda: "paused:parse" in status_lines(status), MODEL_LOAD_S, "parse", proc)
    assert kill_hard(proc) == -9
    _finish(proc)
    assert not any(line.startswith("embedding") for line in status_lines(status))
    _assert_old_index_intact(base.idx, base, embedder, gen)
    log.append("kill while parsing: old index intact")

    # 3. while embedding: after the first batch, with more to go
    status = tmp_path / "embed.status"
    proc = _start_cli(base, big, status)
    wait_for(lambda: any(s.startswith("embedded:") for s in status_lines(status)),
             MODEL_LOAD_S, "first embedded batch", proc)
    assert kill_hard(proc) == -9
    _finish(proc)
    lines = status_lines(status)
    total = int(next(s for s in lines if s.startswith("embedding:")).split(":")[1])
    done = sum(int(s.split(":")[1]) for s in lines if s.startswith("embedded:"))
    assert 0 < done < total, (done, total)
    assert "writing" not in lines
    _assert_old_index_intact(base.idx, base, embedder, gen)
    log.append(f"kill while embedding ({done}/{total} chunks): old index intact")

    # 4. while writing: a gen-*.tmp with data files but no manifest yet
    status = tmp_path / "write.status"
    proc = _start_cli(base, big, status, VB_FAULT_PAUSE="write")
    wait_for(lambda: "paused:write" in status_lines(status), MODEL_LOAD_S, "write", proc)
    partial = [p for p in base.idx.glob("gen-*.tmp") if p.is_dir()]
    assert len(partial) == 1
    assert (partial[0] / "chunks.jsonl").is_file() and (partial[0] / "dense.faiss").is_file()
    assert not (partial[0] / "manifest.json").exists()
    assert kill_hard(proc) == -9
    _finish(proc)
    assert partial[0].is_dir()  # the leftover the next build has to remove
    _assert_old_index_intact(base.idx, base, embedder, gen)
    log.append("kill while writing gen-*.tmp: old index intact, tmp left behind")

    # 5. the next (unhooked) ingest completes, reuses the unchanged document, cleans up
    status = tmp_path / "final.status"
    proc = _start_cli(base, big, status, hooks=False)
    try:
        rc = proc.wait(timeout=MODEL_LOAD_S + 120)
    finally:
        if proc.poll() is None:
            kill_hard(proc)
    stderr = _finish(proc)
    assert rc == 0, stderr
    assert "Er loopt al een ingest" not in stderr  # the killed builds' lock was released
    assert re.search(r"ongewijzigd \(hergebruikt\)\D+1\b", stderr), stderr
    assert re.search(r"nieuw\D+2\b", stderr), stderr
    assert not list(base.idx.glob("gen-*.tmp")) and not (base.idx / "CURRENT.tmp").exists()
    new = (base.idx / "CURRENT").read_text(encoding="utf-8").strip()
    assert new != gen
    assert generations(base.idx) == sorted([gen, new])  # the new one and its predecessor
    _assert_old_index_intact(base.idx, base, embedder, new)  # same answer, new index
    log.append("next ingest: rc=0, 1 reused + 2 new, tmp removed, same answer")
    print("\n".join(log))


@pytest.mark.timeout(300)
def test_kill_at_each_commit_step_keeps_the_old_generation(base, embedder, tmp_path):
    """Exact kill points inside commit_generation, hit by a child that kills itself."""
    from index import build_index

    idx = tmp_path / "idx"
    shutil.copytree(base.pristine, idx)
    gen = base.gen
    expected_leftover = {
        "commit-start": lambda: [p for p in idx.glob("gen-*.tmp")],
        "gen-renamed": lambda: [n for n in generations(idx)
                                if n != gen and not n.endswith(".tmp")],
        "before-current-replace": lambda: [p for p in [idx / "CURRENT.tmp"] if p.exists()],
    }
    for point, leftover in expected_leftover.items():
        status = tmp_path / f"{point}.status"
        env = child_env(tmp_path, VB_FAULT_STATUS=str(status), VB_FAULT_KILL=point)
        proc = subprocess.run(
            [sys.executable, str(HELPER), "fake-build", str(base.small), str(idx)],
            cwd=ROOT, env=env, capture_output=True, timeout=180)
        assert proc.returncode == -9, proc.stderr.decode(errors="replace")
        assert f"killing:{point}" in status_lines(status)
        assert leftover(), f"{point}: expected a leftover in {sorted(idx.iterdir())}"
        _assert_old_index_intact(idx, base, embedder, gen)
        print(f"self-kill at {point}: old index intact, leftover {leftover()}")

    # the next real build reuses every stored vector and removes all leftovers
    local = base.settings.model_copy(update={"index_dir": idx})
    report = build_index(base.small, idx, local, embedder=embedder)
    assert report.unchanged == [SMALL_DOC] and report.embedded_chunks == 0
    assert not list(idx.glob("gen-*.tmp")) and not (idx / "CURRENT.tmp").exists()
    # kept: the new generation and the one CURRENT named before it, not the orphan
    assert generations(idx) == sorted([gen, report.generation])
    _assert_old_index_intact(idx, base, embedder, report.generation)


def _feedback_records(text: str) -> tuple[list[dict], str, int]:
    """Complete records, the incomplete tail ('' when the file ends with a newline) and
    the number of earlier torn lines (half records that a later append closed off)."""
    *complete, tail = text.split("\n")
    records, torn = [], 0
    for line in complete:
        try:
            records.append(json.loads(line))
        except ValueError:
            assert line.startswith('{"question": "vraag '), f"not a torn record: {line!r}"
            torn += 1
    for r in records:
        assert set(r) == {"question", "answer", "citations", "verdict", "comment", "timestamp"}
    return records, tail, torn


@pytest.mark.timeout(180)
def test_feedback_log_survives_sigkill_of_the_writer(tmp_path):
    from vraagbaak.feedback import FeedbackStore

    path = tmp_path / "feedback" / "feedback.jsonl"
    FeedbackStore(path).add("eerste vraag", "eerste antwoord", [], "up", "bestond al")
    previous = path.read_bytes()
    n_before = 1
    acked_total = 0
    for round_no, delay in enumerate((0.3, 0.75, 1.3)):
        acks = tmp_path / f"acks-{round_no}.txt"
        with open(acks, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, str(HELPER), "feedback-loop", str(path)], cwd=ROOT,
                env=child_env(tmp_path), stdout=out, stderr=subprocess.PIPE)
            wait_for(lambda a=acks: a.stat().st_size > 0, 60, "first feedback line", proc)
            time.sleep(delay)
            assert kill_hard(proc) == -9
        data = path.read_bytes()
        assert data.startswith(previous), "the feedback file was truncated or rewritten"
        records, tail, torn = _feedback_records(data.decode("utf-8"))
        assert torn <= round_no  # only a kill mid-write leaves a torn line, one per kill
        assert records[0]["comment"] == "bestond al"
        acked = [int(x) for x in acks.read_text().split()]
        assert acked == list(range(len(acked)))
        written = [r["question"] for r in records[n_before:]]
        # every acknowledged record is in the file, in order, and nothing else but at
        # most the one being written when the kill came
        assert written == [f"vraag {i}" for i in range(len(written))]
        assert len(acked) <= len(written) <= len(acked) + 1
        print(f"round {round_no}: killed after {len(acked)} acknowledged appends, "
              f"{len(data) - len(previous)} bytes; incomplete tail: {len(tail)} bytes")
        acked_total += len(acked)
        previous, n_before = data, len(records)
    assert acked_total > 3
    # the next append after a kill is a complete record on its own line, even when the
    # kill left half a line behind
    FeedbackStore(path).add("na de kill", "antwoord", [], "down", None)
    records, tail, _ = _feedback_records(path.read_text("utf-8"))
    assert tail == "" and records[-1]["question"] == "na de kill"
    assert path.read_bytes().startswith(previous)


@pytest.mark.timeout(120)
def test_interrupted_upload_leaves_no_visible_half_file(tmp_path, settings):
    import ingest
    from vraagbaak.uploads import TEMP_PREFIX, remove_stale_temps

    dest = tmp_path / "uploads"
    status = tmp_path / "upload.status"
    proc = subprocess.Popen(
        [sys.executable, str(HELPER), "slow-upload", str(dest), "rapport.txt"], cwd=ROOT,
        env=child_env(tmp_path, VB_FAULT_STATUS=str(status)),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(lambda: "upload-started" in status_lines(status), 60, "upload in progress", proc)
    temps = wait_for(lambda: [p for p in dest.glob(f"{TEMP_PREFIX}*") if p.stat().st_size],
                     10, "temp file with data", proc)
    assert kill_hard(proc) == -9
    entries = sorted(p.name for p in dest.iterdir())
    assert entries == [temps[0].name], entries  # only the hidden temp file, no final name
    assert all(name.startswith(".") for name in entries)
    assert ingest.iter_files(dest, settings) == []  # ingest never sees the half file
    assert remove_stale_temps(dest, older_than_s=0) == 1
    assert list(dest.iterdir()) == []


def test_append_after_a_torn_line_starts_a_line_of_its_own(tmp_path):
    """What a kill inside write() leaves (half a record) is closed off, never glued to."""
    from vraagbaak.feedback import FeedbackStore

    path = tmp_path / "feedback.jsonl"
    FeedbackStore(path).add("vraag 0", "heel", [], "up", None)
    with open(path, "ab") as f:
        f.write(b'{"question": "vraag 1", "answer": "hal')
    before = path.read_bytes()
    FeedbackStore(path).add("vraag 2", "daarna", [], "down", None)
    data = path.read_bytes()
    assert data.startswith(before)
    records, tail, torn = _feedback_records(data.decode("utf-8"))
    assert tail == "" and torn == 1
    assert [r["question"] for r in records] == ["vraag 0", "vraag 2"]
