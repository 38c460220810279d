"""Bad input never stops a run and never passes silently: a Skipped with a Dutch reason,
or, when the damage is recoverable, a Document."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from test_ingest import make_docx, make_pdf

from ingest import Document, Skipped, chunk_document, iter_files, load_document
from ingest.verify import traceability_problems
from vraagbaak.settings import Settings

SETTINGS = Settings()


def _skip(path: Path, settings: Settings = SETTINGS) -> str:
    result = load_document(path, path.parent, settings)
    assert isinstance(result, Skipped), result
    assert result.source == path.name
    return result.reason


def test_empty_file(tmp_path):
    for name in ("leeg.txt", "leeg.pdf", "leeg.docx", "leeg.html", "leeg.md"):
        (tmp_path / name).write_bytes(b"")
        assert _skip(tmp_path / name) == "leeg bestand"


def test_whitespace_only(tmp_path):
    (tmp_path / "wit.txt").write_text(" \n\t\n\u200b\n", encoding="utf-8")
    assert _skip(tmp_path / "wit.txt") == "bestand bevat geen tekst"


def test_corrupt_pdf(tmp_path):
    p = tmp_path / "kapot.pdf"
    p.write_bytes(b"%PDF-1.7\n" + random.Random(1).randbytes(3000) + b"\n%%EOF")
    assert "beschadigde of versleutelde PDF" in _skip(p)


def test_truncated_pdf(tmp_path):
    good = tmp_path / "goed.pdf"
    make_pdf(good)
    p = tmp_path / "afgebroken.pdf"
    p.write_bytes(good.read_bytes()[:400])
    assert "beschadigde of versleutelde PDF" in _skip(p)


def test_encrypted_pdf(tmp_path):
    plain = tmp_path / "open.pdf"
    make_pdf(plain)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="geheim", owner_password="baas", algorithm="RC4-128")
    p = tmp_path / "geheim.pdf"
    with p.open("wb") as f:
        writer.write(f)
    assert PdfReader(p).is_encrypted
    reason = _skip(p)
    assert "versleutelde PDF" in reason and "wachtwoord" in reason


def test_pdf_encrypted_with_empty_user_password_is_read(tmp_path):
    plain = tmp_path / "open.pdf"
    make_pdf(plain)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password="", owner_password="baas", algorithm="RC4-128")
    p = tmp_path / "alleen-eigenaar.pdf"
    with p.open("wb") as f:
        writer.write(f)
    doc = load_document(p, tmp_path, SETTINGS)
    assert isinstance(doc, Document) and any("zwerfafval" in line for line in doc.lines)


def test_too_many_pdf_pages(tmp_path):
    p = tmp_path / "dik.pdf"
    make_pdf(p)
    reason = _skip(p, Settings(max_pdf_pages=1))
    assert "2 pagina's" in reason and "maximum van 1" in reason


def test_binary_with_text_extension(tmp_path):
    p = tmp_path / "plaatje.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20)
    assert _skip(p) == "binair bestand, geen tekst"
    q = tmp_path / "ruis.md"
    q.write_bytes(bytes(random.Random(2).randrange(1, 32) for _ in range(4000)))
    assert _skip(q) == "binair bestand, geen tekst"


def test_unknown_extension(tmp_path):
    (tmp_path / "data.xyz").write_text("Tekst.", encoding="utf-8")
    (tmp_path / "LEESMIJ").write_text("Tekst.", encoding="utf-8")
    assert _skip(tmp_path / "data.xyz") == "onbekende extensie .xyz"
    assert _skip(tmp_path / "LEESMIJ") == "onbekende extensie (geen)"


def test_file_over_size_limit(tmp_path):
    p = tmp_path / "groot.txt"
    p.write_text("Een zin over de gemeente. " * 100, encoding="utf-8")
    assert _skip(p, Settings(max_file_mb=0.001)) == "bestand is groter dan 0,001 MB"
    assert "groter dan 50 MB" in Skipped("x", f"bestand is groter dan {50:g} MB").reason


def test_zip_bomb_disguised_as_docx(tmp_path):
    p = tmp_path / "bom.docx"
    with zipfile.ZipFile(p, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("word/document.xml", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(int(SETTINGS.max_docx_uncompressed_mb) + 10):
                member.write(block)
    assert p.stat().st_size < 400_000  # small on disk, > 200 MB unpacked
    reason = _skip(p)
    assert "zip-bom" in reason and "200 MB" in reason


def test_docx_that_is_not_a_zip_or_not_word(tmp_path):
    p = tmp_path / "nep.docx"
    p.write_text("Dit is geen Word-bestand.", encoding="utf-8")
    assert "beschadigd DOCX-bestand" in _skip(p)
    q = tmp_path / "ander.docx"
    with zipfile.ZipFile(q, "w") as z:
        z.writestr("iets.txt", "hallo")
    assert "beschadigd DOCX-bestand" in _skip(q)
    good = tmp_path / "goed.docx"
    make_docx(good)
    r = tmp_path / "half.docx"
    r.write_bytes(good.read_bytes()[:-300])
    assert "beschadigd DOCX-bestand" in _skip(r)


@pytest.mark.timeout(60)
def test_deeply_nested_html(tmp_path):
    p = tmp_path / "diep.html"
    p.write_text(
        "<html><body>" + "<div>" * 100_000 + "Diep verstopte tekst." + "</div>" * 100_000,
        encoding="utf-8",
    )
    reason = _skip(p)
    assert "te diep genest" in reason and "400" in reason
    q = tmp_path / "open.html"  # unclosed <p>/<li> do not count as nesting
    q.write_text("<body>" + "<p>Alinea over de begroting." * 2000 + "</body>", encoding="utf-8")
    assert isinstance(load_document(q, tmp_path, SETTINGS), Document)


def test_invalid_utf8_garbage(tmp_path):
    p = tmp_path / "onleesbaar.txt"
    p.write_bytes(bytes(random.Random(3).randrange(0x80, 0x100) for _ in range(3000)))
    assert "ongeldige tekstcodering" in _skip(p)


def test_invalid_utf8_bytes_in_mostly_valid_text(tmp_path):
    p = tmp_path / "gemengd.txt"
    text = "Financiële bijdrage van de gemeente Hengelo voor het jaar 2026. " * 20
    p.write_bytes(
        text.encode("utf-8") + b"\nPrijs: \x80 12, co\xf6rdinatie \xff.\n" + text.encode()
    )
    doc = load_document(p, tmp_path, SETTINGS)
    assert isinstance(doc, Document)
    assert "Financiële" in doc.lines[0]
    assert doc.lines[1] == "Prijs: € 12, coördinatie ÿ."
    assert traceability_problems(doc, chunk_document(doc, SETTINGS)) == []


def test_a_run_over_bad_files_never_raises(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"")
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4 rommel")
    (tmp_path / "c.docx").write_bytes(b"PK\x03\x04 rommel")
    (tmp_path / "d.html").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "e.md").write_text("# Titel\n\nEen goede zin over de gemeente.", encoding="utf-8")
    (tmp_path / "f.bin").write_bytes(b"\x00")
    results = [load_document(p, tmp_path, SETTINGS) for p in iter_files(tmp_path, SETTINGS)]
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Skipped", "Skipped", "Skipped", "Skipped", "Document", "Skipped"]
    for r in results:
        if isinstance(r, Skipped):
            assert r.reason and r.reason[0].islower()
