"""Safe uploads, append-only feedback and the admin token (real model where it matters)."""

from __future__ import annotations

import io
import json
import os
import re
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vraagbaak.feedback import FeedbackError, FeedbackStore, make_record
from vraagbaak.uploads import UploadRejected, safe_name, save_upload

TOKEN = "geheim-token-123"


# --- safe names ------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "../../etc/passwd",
    "../../etc/passwd.txt",
    "..\\..\\windows\\win.ini.txt",
    "docs/../../x.md",
    "/etc/passwd.txt",
    "C:\\Users\\x\\rapport.pdf",
    "rapport\x00.txt",
    "rapport.txt\x00.exe",
    "regel\nbreuk.txt",
])
def test_safe_name_refuses_paths_and_control_characters(settings, name):
    with pytest.raises(UploadRejected) as info:
        safe_name(name, settings)
    assert re.search(r"bestandsnaam|niet toegestaan", str(info.value))


@pytest.mark.parametrize("name", ["rapport.exe", "script.sh", "geen_extensie", ".txt",
                                  "foto.PNG", "data.txt.zip"])
def test_safe_name_rejects_wrong_extensions_in_dutch(settings, name):
    with pytest.raises(UploadRejected) as info:
        safe_name(name, settings)
    assert "niet toegestaan" in str(info.value) and ".pdf" in str(info.value)
    assert info.value.status == 415


def test_safe_name_is_generated_and_keeps_a_readable_stem(settings):
    a = safe_name("Raadsbesluit 2024 (def).PDF", settings)
    b = safe_name("Raadsbesluit 2024 (def).PDF", settings)
    assert re.fullmatch(r"[0-9a-f]{16}_Raadsbesluit_2024_def\.pdf", a), a
    assert a != b
    assert re.fullmatch(r"[0-9a-f]{16}_document\.md", safe_name("???.md", settings))
    assert safe_name("beleid<script>.txt", settings).endswith("_beleid_script.txt")


# --- saving ----------------------------------------------------------------------------


def test_save_upload_writes_atomically_into_the_dir(settings, tmp_path):
    dest = tmp_path / "uploads"
    path = save_upload(io.BytesIO(b"Hallo wereld.\n"), "nota.txt", dest, settings)
    assert path.parent == dest and path.read_bytes() == b"Hallo wereld.\n"
    assert [p.name for p in dest.iterdir()] == [path.name]


def test_oversize_upload_is_refused_and_leaves_nothing(settings, tmp_path):
    small = settings.model_copy(update={"max_file_mb": 0.5})
    dest = tmp_path / "uploads"
    with pytest.raises(UploadRejected) as info:
        save_upload(io.BytesIO(b"a" * (600 * 1024)), "groot.txt", dest, small)
    assert info.value.status == 413 and "te groot" in str(info.value)
    assert "0.5 MB" in str(info.value)
    assert list(dest.iterdir()) == []


def test_empty_upload_is_refused(settings, tmp_path):
    with pytest.raises(UploadRejected, match="leeg"):
        save_upload(io.BytesIO(b""), "leeg.txt", tmp_path, settings)
    assert list(tmp_path.iterdir()) == []


class _BrokenStream:
    """Delivers one block, then fails like a client that disconnects mid-upload."""

    def __init__(self):
        self.calls = 0

    def read(self, n):
        self.calls += 1
        if self.calls == 1:
            return b"x" * 1000
        raise ConnectionResetError("verbinding verbroken")


def test_interrupted_upload_leaves_no_file(settings, tmp_path):
    dest = tmp_path / "uploads"
    with pytest.raises(ConnectionResetError):
        save_upload(_BrokenStream(), "half.txt", dest, settings)
    assert list(dest.iterdir()) == []


def test_traversal_name_never_writes_outside(settings, tmp_path):
    dest = tmp_path / "a" / "uploads"
    with pytest.raises(UploadRejected):
        save_upload(io.BytesIO(b"x"), "../../buiten.txt", dest, settings)
    assert not (tmp_path / "buiten.txt").exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# --- feedback --------------------------------------------------------------------------


def test_feedback_rejects_bad_verdicts_in_dutch():
    with pytest.raises(FeedbackError, match="oordeel"):
        make_record("vraag", "antwoord", [], "meh")
    with pytest.raises(FeedbackError, match="te lang"):
        make_record("vraag", "antwoord", [], "up", "x" * 5000)


def test_a_feedback_line_torn_at_any_byte_leaves_valid_utf8(tmp_path):
    """A kill mid-write may cut a line anywhere; a cut "ë" would leave invalid UTF-8 in
    the middle of the file once the next append closed the line off."""
    path = tmp_path / "feedback.jsonl"
    record = FeedbackStore(path).add("wat kost één ë?", "€ 5", [], "up", "géén")
    data = path.read_bytes()
    for cut in range(len(data) + 1):
        data[:cut].decode("utf-8")  # strict: raises on a torn character
    assert json.loads(data) == record  # the text itself comes back unchanged


def test_concurrent_feedback_appends_are_whole_lines(tmp_path, monkeypatch):
    path = tmp_path / "fb" / "feedback.jsonl"
    store = FeedbackStore(path)
    first = store.add("eerste vraag", "eerste antwoord", [], "down", "oud")
    first_line = path.read_text(encoding="utf-8")

    flags_seen = []
    real_open = os.open

    def spy_open(p, flags, *args):
        flags_seen.append(flags)
        return real_open(p, flags, *args)

    monkeypatch.setattr(os, "open", spy_open)
    citations = [{"n": 1, "source": "a.txt", "quote": "ë" * 3000}]  # > one pipe buffer
    barrier = threading.Barrier(20)

    def worker(i):
        barrier.wait()
        FeedbackStore(path).add(f"vraag {i}", f"antwoord {i}", citations,
                                "up" if i % 2 else "down", f"opmerking {i}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    text = path.read_text(encoding="utf-8")
    assert text.startswith(first_line)  # never rewritten
    lines = text.splitlines()
    assert len(lines) == 21
    records = [json.loads(line) for line in lines]
    assert records[0] == first
    assert sorted(r["question"] for r in records[1:]) == sorted(f"vraag {i}" for i in range(20))
    for r in records[1:]:
        assert set(r) == {"question", "answer", "citations", "verdict", "comment", "timestamp"}
        assert r["verdict"] in ("up", "down") and r["citations"] == citations
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", r["timestamp"])
    file_opens = [f for f in flags_seen if f & os.O_WRONLY]
    assert len(file_opens) == 20
    assert all(f & os.O_APPEND and not f & os.O_TRUNC for f in file_opens)


# --- the API: tokens, feedback, uploads into a small index of our own --------------------


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory, settings, embedder):
    """Two tiny documents and their index; uploads are added to this one."""
    from index import build_index

    root = tmp_path_factory.mktemp("upload_corpus")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "afval.md").write_text(
        "# Afvalbeleid\n\nDe gemeente haalt het restafval voortaan eens per vier weken op. "
        "Dit besluit is genomen om de hoeveelheid restafval per inwoner te verlagen.\n",
        encoding="utf-8")
    (corpus / "parkeren.txt").write_text(
        "Parkeren in de binnenstad\n\nEen bewonersvergunning kost in 2025 tachtig euro per "
        "jaar. De vergunning geldt alleen in de eigen parkeerzone.\n", encoding="utf-8")
    local = settings.model_copy(update={
        "index_dir": root / "index", "feedback_file": root / "feedback.jsonl",
        "upload_dir": root / "elders", "admin_token": TOKEN})
    build_index(corpus, local.index_dir, local, embedder=embedder)
    return corpus, local


@pytest.fixture(scope="module")
def upload_client(small_corpus):
    from vraagbaak.server import create_app

    corpus, local = small_corpus
    with TestClient(create_app(local, corpus_root=corpus)) as c:
        yield c


def test_upload_needs_the_admin_token(upload_client):
    files = {"files": ("nota.txt", b"Een korte nota over bomen in het park.", "text/plain")}
    r = upload_client.post("/api/upload", files=files)
    assert r.status_code == 401 and "Toegangstoken ontbreekt" in r.json()["detail"]
    r = upload_client.post("/api/upload", files=files, headers={"X-Vraagbaak-Token": "fout"})
    assert r.status_code == 403 and "onjuist" in r.json()["detail"]
    r = upload_client.post("/api/upload", files=files,
                           headers={"Authorization": "Bearer fout"})
    assert r.status_code == 403


def test_upload_refuses_bad_files_with_dutch_reasons(upload_client, small_corpus):
    corpus, _ = small_corpus
    auth = {"Authorization": f"Bearer {TOKEN}"}
    r = upload_client.post("/api/upload", headers=auth,
                           files={"files": ("../../etc/passwd.txt", b"root:x:0:0", "text/plain")})
    assert r.status_code == 400
    assert "bestandsnaam" in r.json()["detail"]["rejected"][0]["reason"]
    r = upload_client.post("/api/upload", headers=auth,
                           files={"files": ("virus.exe", b"MZ\x90\x00", "application/x")})
    assert r.status_code == 415
    assert not (corpus.parent / "etc").exists()
    assert not (corpus / "uploads").exists() or not any((corpus / "uploads").iterdir())


def test_uploaded_document_is_answerable_and_old_documents_stay(upload_client, small_corpus):
    corpus, local = small_corpus
    text = ("# Fietsenstallingen\n\nDe proefregeling voor gratis fietsenstallingen in het "
            "centrum loopt af op 1 maart 2031. Daarna beslist de raad over verlenging.\n")
    r = upload_client.post("/api/upload", headers={"X-Vraagbaak-Token": TOKEN},
                           files=[("files", ("Fietsen regeling.md", text.encode(), "text/md"))])
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["added"]) == 1 and body["documents"] == 3
    source = body["added"][0]
    assert re.fullmatch(r"uploads/[0-9a-f]{16}_Fietsen_regeling\.md", source)
    assert (corpus / source).read_text(encoding="utf-8") == text
    assert not [p for p in (corpus / "uploads").iterdir() if p.name.startswith(".")]

    r = upload_client.post("/api/ask", json={
        "question": "wanneer loopt de proefregeling voor gratis fietsenstallingen af?"})
    assert r.status_code == 200
    answer = r.json()
    assert answer["found"] is True and "2031" in answer["answer"]
    assert answer["citations"][0]["source"] == source
    r = upload_client.post("/api/ask", json={"question": "wat kost een bewonersvergunning?"})
    assert r.json()["found"] is True and "tachtig euro" in r.json()["answer"]
    assert upload_client.get("/api/health").json()["documents"] == 3


def test_duplicate_upload_is_refused(upload_client, small_corpus):
    corpus, _ = small_corpus
    before = upload_client.get("/api/health").json()["documents"]
    text = b"Het zwembad aan de Molenstraat sluit op 31 december 2030 voorgoed."
    auth = {"X-Vraagbaak-Token": TOKEN}
    r = upload_client.post("/api/upload", headers=auth, files=[
        ("files", ("zwembad.txt", text, "text/plain")),
        ("files", ("zwembad kopie.txt", text, "text/plain"))])
    assert r.status_code == 200, r.text
    assert len(r.json()["added"]) == 1
    assert "staat al in de index" in r.json()["rejected"][0]["reason"]
    again = upload_client.post("/api/upload", headers=auth,
                               files={"files": ("nog een.txt", text, "text/plain")})
    assert again.status_code == 409
    assert upload_client.get("/api/health").json()["documents"] == before + 1
    assert len(list((corpus / "uploads").glob("*zwembad*"))) == 1


def test_ask_and_feedback_can_require_the_token(small_corpus):
    from vraagbaak.server import create_app

    corpus, local = small_corpus
    locked = local.model_copy(update={"ask_requires_token": True})
    with TestClient(create_app(locked, corpus_root=corpus)) as c:
        q = {"question": "wat kost een bewonersvergunning?"}
        assert c.post("/api/ask", json=q).status_code == 401
        assert c.post("/api/ask", json=q, headers={"X-Vraagbaak-Token": "x"}).status_code == 403
        ok = c.post("/api/ask", json=q, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "tachtig euro" in ok.json()["answer"]
        fb = {"question": "q", "answer": "a", "verdict": "up"}
        assert c.post("/api/feedback", json=fb).status_code == 401
        assert c.get("/api/health").status_code == 200  # monitoring needs no token
        # the web UI is behind Gradio's login, with the token as password
        assert c.get("/config").status_code == 401
        login = c.post("/login", data={"username": "medewerker", "password": TOKEN})
        assert login.status_code == 200
        assert c.get("/config").status_code == 200


def test_api_feedback_is_appended(upload_client, small_corpus):
    _, local = small_corpus
    path = Path(local.feedback_file)
    before = path.read_text(encoding="utf-8").count("\n") if path.exists() else 0
    r = upload_client.post("/api/feedback", json={
        "question": "wanneer?", "answer": "morgen [1]", "verdict": "down",
        "citations": [{"n": 1, "source": "a.txt"}], "comment": "klopt niet"})
    assert r.status_code == 201 and r.json()["status"] == "opgeslagen"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == before + 1
    assert json.loads(lines[-1])["comment"] == "klopt niet"
    bad = upload_client.post("/api/feedback", json={"question": "q", "verdict": "misschien"})
    assert bad.status_code == 422


def test_disabled_uploads_are_refused_even_with_token(small_corpus):
    from vraagbaak.server import create_app

    corpus, local = small_corpus
    off = local.model_copy(update={"upload_enabled": False})
    with TestClient(create_app(off, corpus_root=corpus)) as c:
        r = c.post("/api/upload", headers={"X-Vraagbaak-Token": TOKEN},
                   files={"files": ("a.txt", b"tekst", "text/plain")})
        assert r.status_code == 403 and "uitgeschakeld" in r.json()["detail"]
