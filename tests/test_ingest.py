"""One small real file per format: the unique fact must reach a chunk with the right
source, section, line span (and page), and boilerplate must not."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import docx
import pytest
from fpdf import FPDF

from ingest import (
    Chunk,
    Document,
    Skipped,
    chunk_document,
    document_from_text,
    iter_files,
    load_document,
    quote_in_lines,
)
from ingest.verify import traceability_problems
from tests.conftest import MERGED_SECTIONS_MD
from vraagbaak.settings import Settings

DATA = Path(__file__).parent / "data" / "ingest"
SETTINGS = Settings()


def _load(path: Path, root: Path) -> tuple[Document, list[Chunk]]:
    doc = load_document(path, root, SETTINGS)
    assert isinstance(doc, Document), doc
    chunks = chunk_document(doc, SETTINGS)
    assert traceability_problems(doc, chunks) == []
    return doc, chunks


def _chunk_with(chunks: list[Chunk], needle: str) -> Chunk:
    found = [c for c in chunks if needle in c.text]
    assert found, f"{needle!r} in no chunk"
    return found[0]


def _line_of(doc: Document, needle: str) -> int:
    return next(n for n, line in enumerate(doc.lines, 1) if needle in line)


def make_pdf(path: Path) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.cell(0, 10, "Hoofdstuk 1 Inleiding", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(0, 6, "De provincie Drenthe werkt aan een schoon landschap. " * 6)
    pdf.add_page()
    pdf.cell(0, 10, "2. Uitvoering", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0,
        6,
        "De provincie Drenthe reserveert 7,5 miljoen euro voor de aanpak van zwerfafval "
        "langs provinciale wegen. "
        + "Gemeenten en vrijwilligers krijgen daarbij hulp van de provincie. "
        * 4,
    )
    pdf.output(str(path))


def make_docx(path: Path) -> None:
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "KOPTEKST gemeente Oldenzaal"
    d.add_paragraph("Raadsinformatiebrief groene daken", style="Title")
    d.add_heading("Aanleiding", level=1)
    d.add_paragraph(
        "De raad heeft gevraagd hoe de stad meer groen kan krijgen zonder extra ruimte te "
        "gebruiken. Daken bieden die ruimte: ze zijn er al en worden nu weinig gebruikt."
    )
    d.add_heading("Subsidie groene daken", level=1)
    d.add_paragraph(
        "Het college van Oldenzaal stelt 48.000 euro beschikbaar voor groene daken. "
        "Eigenaren van woningen en bedrijfspanden kunnen vanaf januari een aanvraag doen, "
        "en het college houdt de regeling twee jaar open om de effecten te kunnen meten."
    )
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Soort dak"
    table.cell(0, 1).text = "Bijdrage"
    table.cell(1, 0).text = "Sedum"
    table.cell(1, 1).text = "30 euro per m2"
    d.save(str(path))


def test_pdf_keeps_pages_and_numbered_heading(tmp_path):
    path = tmp_path / "rapport.pdf"
    make_pdf(path)
    doc, chunks = _load(path, tmp_path)
    assert doc.kind == "pdf" and doc.source == "rapport.pdf"
    assert set(doc.pages) == {1, 2}
    c = _chunk_with(chunks, "zwerfafval")
    line = _line_of(doc, "zwerfafval")
    assert doc.pages[line - 1] == 2
    assert c.page == 2 and c.line_start <= line <= c.line_end
    assert c.section[-1] == "2. Uitvoering"
    s = next(s for s in c.sentences if "zwerfafval" in s.text)
    assert s.page == 2 and s.line_start == line
    assert "Hoofdstuk 1 Inleiding" in [c.section[0] for c in chunks if c.page == 1]
    assert doc.content_hash == hashlib.sha256(path.read_bytes()).hexdigest()


def test_docx_heading_styles_become_sections(tmp_path):
    path = tmp_path / "brief.docx"
    make_docx(path)
    doc, chunks = _load(path, tmp_path)
    assert doc.title == "Raadsinformatiebrief groene daken"
    line = _line_of(doc, "Subsidie groene daken")
    assert doc.headings[line] == 1
    c = _chunk_with(chunks, "48.000 euro")
    assert c.section == ("Subsidie groene daken",)
    fact = _line_of(doc, "48.000 euro")
    assert c.line_start <= fact <= c.line_end
    assert "Sedum | 30 euro per m2" in doc.lines
    assert not any("KOPTEKST" in line for line in doc.lines)


def test_a_typed_contents_list_in_word_is_no_section(tmp_path):
    """Its "2. Financiën ..... 3" lines were read as numbered headings: each a near-empty
    section that beat the real one in retrieval."""
    d = docx.Document()
    d.add_paragraph("Inhoudsopgave")
    for entry in ("1. Inleiding ............... 2", "2. Financiën ............... 3",
                  "3. Planning ................ 4"):
        d.add_paragraph(entry)
    d.add_heading("1. Inleiding", level=1)
    d.add_paragraph("Het college wil de sporthal in Noordveld vervangen door nieuwbouw.")
    d.add_heading("2. Financiën", level=1)
    d.add_paragraph("De nieuwbouw kost 4,2 miljoen euro, te dekken uit de reserve sport.")
    path = tmp_path / "voorstel.docx"
    d.save(path)
    doc, chunks = _load(path, tmp_path)
    assert not any("......" in c.text or "......" in c.section_path for c in chunks)
    c = _chunk_with(chunks, "4,2 miljoen")
    assert c.section == ("2. Financiën",)
    assert _line_of(doc, "4,2 miljoen") in range(c.line_start, c.line_end + 1)


_FILLER = ("Het college legt deze regel elk jaar opnieuw vast in de uitvoeringsregels en "
           "maakt de bedragen bekend in het gemeenteblad, zodat inwoners weten waar zij aan "
           "toe zijn en de consulenten iedere aanvraag op dezelfde wijze beoordelen. ")


def _typed_headings(kind: str, tmp_path: Path) -> Path:
    """A chapter styled as a heading, articles in bold or typed plain, as many Word and
    web documents have them; bodies long enough for one chunk per article."""
    parts = [("h", "Hoofdstuk 2 Kwijtschelding"),
             ("b", "Artikel 3 Normbedrag"), ("p", "Uitgegaan wordt van 100 procent van de "
                                                "bijstandsnorm. " + _FILLER * 3),
             ("b", "Artikel 4 Vermogen"), ("p", "Een auto tot 3.500 euro telt niet mee. "
                                              + _FILLER * 3),
             ("t", "Artikel 5 Termijn"), ("p", "Het college beslist binnen acht weken. "
                                             + _FILLER * 3),
             ("b", "Let op: dit vette zinnetje is geen kop.")]
    if kind == "docx":
        d = docx.Document()
        for tag, text in parts:
            if tag == "h":
                d.add_heading(text, level=1)
            elif tag == "b":
                d.add_paragraph().add_run(text).bold = True
            else:
                d.add_paragraph(text)
        d.save(path := tmp_path / "verordening.docx")
        return path
    if kind == "html":
        body = "".join(f"<h1>{t}</h1>" if tag == "h" else f"<p><strong>{t}</strong></p>"
                       if tag == "b" else f"<p>{t}</p>" for tag, t in parts)
        (path := tmp_path / "verordening.html").write_text(
            f"<html><body><main>{body}</main></body></html>", "utf-8")
        return path
    text = "\n\n".join(f"# {t}" if tag == "h" else f"**{t}**" if tag == "b" else t
                        for tag, t in parts)
    (path := tmp_path / "verordening.md").write_text(text + "\n", "utf-8")
    return path


@pytest.mark.parametrize("kind", ["docx", "html", "md"])
def test_bold_and_typed_article_headings_in_markup_are_sections(kind, tmp_path):
    """Only the chapter was a heading: three articles became one section, and a
    citation could not name its article."""
    doc, chunks = _load(_typed_headings(kind, tmp_path), tmp_path)
    for fact, article in (("100 procent", "Artikel 3 Normbedrag"),
                          ("3.500 euro", "Artikel 4 Vermogen"),
                          ("acht weken", "Artikel 5 Termijn")):
        c = _chunk_with(chunks, fact)
        # the first article shares its chunk with the bare chapter heading above it
        assert c.section in (("Hoofdstuk 2 Kwijtschelding", article),
                             ("Hoofdstuk 2 Kwijtschelding",))
        assert any(s.heading and s.text == article for s in c.sentences)
    assert not any(s.heading and s.text.startswith("Let op") for c in chunks for s in c.sentences)


def test_a_bold_table_cell_in_html_stays_in_its_row(tmp_path):
    """Word's HTML export puts each cell in a <p>; a bold "Totaal" cell is no heading."""
    row = "<tr><td><p><strong>{}</strong></p></td><td><p>{}</p></td></tr>"
    (path := tmp_path / "begroting.html").write_text(
        "<html><body><main><h1>Begroting</h1><table>" + row.format("Post", "Bedrag")
        + row.format("Totaal", "€ 751.000") + "</table></main></body></html>", "utf-8")
    doc, _ = _load(path, tmp_path)
    assert "Totaal | € 751.000" in doc.lines
    assert set(doc.headings.values()) == {1}


def test_equal_neighbouring_cells_in_word_both_stay_and_a_merged_cell_once(tmp_path):
    """Cells were deduplicated by text to undo merged cells, so "€ 35.000 | € 35.000"
    lost a year and every later value moved one column to the left."""
    d = docx.Document()
    table = d.add_table(rows=3, cols=3)
    for r, values in enumerate((("Post", "2026", "2027"), ("Onderhoud", "€ 35.000", "€ 35.000"))):
        for k, value in enumerate(values):
            table.cell(r, k).text = value
    table.cell(2, 1).merge(table.cell(2, 2)).text = "vervalt"
    table.cell(2, 0).text = "Toezicht"
    d.save(str(path := tmp_path / "begroting.docx"))
    doc, chunks = _load(path, tmp_path)
    assert "Onderhoud | € 35.000 | € 35.000" in doc.lines
    assert "Toezicht | vervalt" in doc.lines


def test_markdown_pipe_table_rows_stay_rows(tmp_path):
    """Read as paragraph text, the rows ran together into one sentence with the
    delimiter's dashes, and a year's value could not be quoted under its header."""
    (path := tmp_path / "planning.md").write_text(
        "# Planning\n\nTabel 2 Kosten per jaar\n\n| Onderdeel | 2026 | 2027 |\n|---|---:|:-:|\n"
        "| Speeltoestellen | € 185.000 | € 210.000 |\n| Valondergronden | € 45.000 | € 50.000 |"
        "\n\nDe raad besluit in mei.\nDat is laat.\n", "utf-8")
    doc, chunks = _load(path, tmp_path)
    sentences = [s.text for c in chunks for s in c.sentences]
    assert "Onderdeel | 2026 | 2027" in sentences
    assert "Valondergronden | € 45.000 | € 50.000" in sentences
    assert not any("---" in s for s in sentences)
    assert "De raad besluit in mei. Dat is laat." in " ".join(sentences)  # prose still joins


def test_html_main_text_only_with_headings():
    doc, chunks = _load(DATA / "subsidie.html", DATA)
    text = "\n".join(doc.lines)
    for junk in ("SCRIPTTEKST", "STIJLTEKST", "NAVIGATIELINK", "KOPTEKST", "VOETTEKST", "ZIJBALK"):
        assert junk not in text
        assert not any(junk in c.text for c in chunks)
    assert doc.title == "Subsidieregeling dakgroen"
    c = _chunk_with(chunks, "1 maart 2026")
    assert c.section == ("Subsidieregeling dakgroen", "Wie kan aanvragen")
    line = _line_of(doc, "1 maart 2026")
    assert doc.headings[_line_of(doc, "Wie kan aanvragen")] == 2
    assert c.line_start <= line <= c.line_end
    assert "vóór de aanleg" in text  # character references decoded
    assert "Sedumdak | 25 euro" in doc.lines


def test_markdown_headings_and_source_lines():
    path = DATA / "handreiking.md"
    doc, chunks = _load(path, DATA)
    raw = path.read_text(encoding="utf-8").splitlines()
    assert list(doc.lines) == raw  # citations point at the file's own lines
    assert doc.headings == {1: 1, 7: 2, 21: 2}  # "# dit is geen kop" sits in a code block
    c = _chunk_with(chunks, "17 oktober 2026")
    assert c.section == ("Handreiking Kwakkelsubsidie", "Aanvragen")
    assert c.line_start <= raw.index(next(x for x in raw if "17 oktober" in x)) + 1 <= c.line_end
    assert not any("##" in c.text or "**" in c.text or "https://" in c.text for c in chunks)
    assert any("de regeling voor details" in c.text for c in chunks)


def test_cp1252_text_is_decoded():
    doc, chunks = _load(DATA / "regeling-cp1252.txt", DATA)
    assert doc.title == "Financiële regeling coöperaties"
    c = _chunk_with(chunks, "€ 1.234 per coöperatie")
    assert c.section == ("Financiële regeling coöperaties",)
    assert (c.line_start, c.line_end) == (1, 4)
    s = next(s for s in c.sentences if "€" in s.text)
    assert (s.line_start, s.line_end) == (3, 3)


def test_iter_files_sorted_skips_hidden_and_keeps_unknown(tmp_path):
    for rel in ["b.txt", "a/z.md", "a/.verborgen.txt", ".git/x.txt", "c.xyz", "A.TXT"]:
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("Tekst.", encoding="utf-8")
    rels = [p.relative_to(tmp_path).as_posix() for p in iter_files(tmp_path, SETTINGS)]
    assert rels == ["A.TXT", "a/z.md", "b.txt", "c.xyz"]


def test_source_is_relative_posix_path(tmp_path):
    sub = tmp_path / "beleid" / "2026"
    sub.mkdir(parents=True)
    shutil.copy(DATA / "regeling-cp1252.txt", sub / "r.txt")
    doc = load_document(sub / "r.txt", tmp_path, SETTINGS)
    assert isinstance(doc, Document) and doc.source == "beleid/2026/r.txt"
    assert all(c.source == "beleid/2026/r.txt" for c in chunk_document(doc, SETTINGS))


def test_quote_in_lines_rules():
    lines = [
        "Met een nieuw concept willen wij de verduur-",
        "",
        "zaming van de eigen woning \u200bondersteunen: zie https://example.nl/a?b=1",
        "\uf0b7 De GEMEENTE faciliteert.",
    ]
    assert quote_in_lines("de verduurzaming van de eigen woning ondersteunen", lines)
    assert quote_in_lines("ondersteunen: zie De gemeente faciliteert", lines)
    assert quote_in_lines("verduur- zaming", lines)
    assert not quote_in_lines("de verduurzaming van een eigen woning", lines)  # word changed
    assert not quote_in_lines("eemte faciliteert", lines)  # not on a word boundary
    assert not quote_in_lines("gemeente faciliteert niet", lines)
    assert not quote_in_lines("wij de woning", lines)  # not contiguous
    assert not quote_in_lines("", lines) and not quote_in_lines(" … ", lines)
    assert not quote_in_lines("de gemeente", ["ondergemeente"])


def test_chunk_sizes_sentences_and_overlap():
    sentences = [
        f"Zin nummer {i} gaat over de begroting van het jaar {2000 + i}." for i in range(80)
    ]
    doc = document_from_text("Begroting\n\n" + " ".join(sentences))
    chunks = chunk_document(doc, SETTINGS)
    assert traceability_problems(doc, chunks) == []
    assert len(chunks) >= 3
    for c in chunks:
        assert len(c.text.split()) <= SETTINGS.chunk_max_words
        assert c.section == ("Begroting",)
        assert c.title == "Begroting"
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert a.sentences[-1].text == b.sentences[0].text  # one sentence of overlap
    assert all(s.text.endswith(".") for c in chunks for s in c.sentences[1:])


def test_overlong_sentence_is_split_at_clauses():
    words = ", ".join(f"punt {i} van de lijst" for i in range(120))
    doc = document_from_text(f"Lijst\n\nDe raad besluit over {words}.")
    chunks = chunk_document(doc, SETTINGS)
    assert traceability_problems(doc, chunks) == []
    assert len(chunks) >= 3
    pieces = [s.text for c in chunks for s in c.sentences if s.text != "Lijst"]
    assert pieces[0].startswith("De raad besluit over punt 0 van de lijst,")
    for piece in pieces[1:]:
        assert piece.startswith("punt ")  # cut after a comma, never inside a clause
    assert all(len(c.text.split()) <= SETTINGS.chunk_max_words for c in chunks)


def test_skipped_is_not_a_document(tmp_path):
    p = tmp_path / "leeg.txt"
    p.write_bytes(b"")
    result = load_document(p, tmp_path, SETTINGS)
    assert isinstance(result, Skipped) and result.source == "leeg.txt"


@pytest.mark.parametrize("kind", ["txt", "md"])
def test_heading_path_replaces_deeper_levels(kind):
    text = (
        "DEEL 1: Algemeen\n\nInleidende tekst over het kader van dit plan en de rol van de "
        "partijen die meedoen.\n\n1. Doelen\n\nDe doelen van het plan staan hier beschreven "
        "in een paar zinnen tekst.\n\n1.1 Subdoel\n\nHet subdoel gaat over de wijk.\n\n"
        "2. Middelen\n\nHet budget bedraagt 3 miljoen euro.\n\nDEEL 2: Uitvoering\n\n"
        "De uitvoering start in 2027.\n"
    )
    if kind == "md":
        text = (
            text.replace("DEEL", "# DEEL")
            .replace("1. Doelen", "## 1. Doelen")
            .replace("1.1 Subdoel", "### 1.1 Subdoel")
            .replace("2. Middelen", "## 2. Middelen")
        )
    doc = document_from_text(text, source="plan." + kind, kind=kind)
    small = Settings(chunk_min_words=1, chunk_target_words=12, chunk_max_words=20)
    chunks = chunk_document(doc, small)
    assert traceability_problems(doc, chunks) == []
    by_fact = {c.text.split("\n")[-1]: c.section for c in chunks}
    assert by_fact["Het subdoel gaat over de wijk."] == (
        "DEEL 1: Algemeen",
        "1. Doelen",
        "1.1 Subdoel",
    )
    assert by_fact["Het budget bedraagt 3 miljoen euro."] == ("DEEL 1: Algemeen", "2. Middelen")
    assert by_fact["De uitvoering start in 2027."] == ("DEEL 2: Uitvoering",)


def test_html_without_main_drops_site_chrome_and_survives_depth(tmp_path):
    p = tmp_path / "oud.html"
    p.write_text(
        "<html><body><header>SITEKOP</header><div id='hoofd-menu'>MENU</div>"
        "<div class='breadcrumb'>KRUIMEL</div><h1>Besluit</h1>Losse tekst in de body, "
        "<b>vet</b> en meer.<br>Tweede regel.<footer>VOET</footer></body></html>",
        encoding="utf-8",
    )
    doc = load_document(p, tmp_path, SETTINGS)
    assert isinstance(doc, Document)
    assert doc.lines == ("Besluit", "Losse tekst in de body, vet en meer.", "Tweede regel.")
    assert doc.headings == {1: 1}
    deep = tmp_path / "diep.html"
    deep.write_text(
        "<html><body>" + "<div>" * 350 + "<h2>Diepe kop</h2><p>Tekst onderin.</p>" + "</div>" * 350,
        encoding="utf-8",
    )
    doc = load_document(deep, tmp_path, SETTINGS)
    assert isinstance(doc, Document) and doc.headings == {1: 2}


def test_docx_dutch_and_inherited_heading_styles(tmp_path):
    from docx.enum.style import WD_STYLE_TYPE

    d = docx.Document()
    kop = d.styles.add_style("Kop 2", WD_STYLE_TYPE.PARAGRAPH)
    eigen = d.styles.add_style("Mijn tussenkop", WD_STYLE_TYPE.PARAGRAPH)
    eigen.base_style = d.styles["Heading 3"]
    d.add_paragraph("Nederlandse kop", style=kop)
    d.add_paragraph("Tekst onder de Nederlandse kop.")
    d.add_paragraph("Eigen kop", style=eigen)
    d.add_paragraph("Tekst onder de eigen kop.")
    path = tmp_path / "stijlen.docx"
    d.save(str(path))
    doc = load_document(path, tmp_path, SETTINGS)
    assert isinstance(doc, Document)
    assert doc.headings == {1: 2, 3: 3}


def test_broken_lines_hyphenation_and_lists():
    text = (
        "Wonen\n\n"
        "De provincie zet in op de verduur-\n"
        "zaming van woningen, vergoedt btw-\n"
        "verlies in Diekman-\n"
        "Oost en steunt het speel-\n"
        "en sportbeleid van de gemeente\n"
        "\n"
        "Enschede met geld.\n"
        "\uf0b7 Opdracht Sportaal 2022-2026\n"
        "\uf0b7 Nota sport en bewegen\n"
        "- een kort lijstje;\n"
        "- tweede punt\n"
    )
    doc = document_from_text(text)
    chunks = chunk_document(doc, Settings(chunk_min_words=1))
    assert traceability_problems(doc, chunks) == []
    sentences = [s for c in chunks for s in c.sentences]
    first = next(s for s in sentences if s.text.startswith("De provincie"))
    assert first.text == (
        "De provincie zet in op de verduurzaming van woningen, vergoedt btw-verlies in "
        "Diekman-Oost en steunt het speel- en sportbeleid van de gemeente Enschede met geld."
    )
    assert (first.line_start, first.line_end) == (3, 9)
    items = [(s.text, s.line_start) for s in sentences if s.line_start >= 10]
    assert items == [
        ("Opdracht Sportaal 2022-2026", 10),
        ("Nota sport en bewegen", 11),
        ("een kort lijstje;", 12),
        ("tweede punt", 13),
    ]


def test_docx_content_controls_are_read(tmp_path):
    from docx.oxml import OxmlElement

    d = docx.Document()
    d.add_heading("Besluit", level=1)
    p = d.add_paragraph("Het college besluit tot aanleg van 12 laadpalen in Delden.")
    sdt, content = OxmlElement("w:sdt"), OxmlElement("w:sdtContent")
    p._p.addprevious(sdt)
    sdt.append(content)
    content.append(p._p)  # the paragraph now lives inside a content control
    path = tmp_path / "sjabloon.docx"
    d.save(str(path))
    doc = load_document(path, tmp_path, SETTINGS)
    assert isinstance(doc, Document)
    assert doc.lines == ("Besluit", "Het college besluit tot aanleg van 12 laadpalen in Delden.")


def test_heading_lines_are_marked_in_the_chunk_and_survive_the_store():
    from index.codec import chunk_from_record, chunk_to_record

    doc = document_from_text(MERGED_SECTIONS_MD, source="beleid.md", kind="md")
    chunks = chunk_document(doc, SETTINGS)
    marked = {s.text: s.heading for c in chunks for s in c.sentences}
    assert marked["Doel"] and marked["Belastingen"]
    assert not marked["De regeling helpt huishoudens met een laag inkomen."]
    chunk = chunks[0]
    assert chunk_from_record(chunk_to_record(chunk)).sentences == chunk.sentences
    old = chunk_to_record(chunk)  # an index written before the flag existed
    for s in old["sentences"]:
        del s["heading"]
    assert not any(s.heading for s in chunk_from_record(old).sentences)


PAGED = """Gemeente Noordstad
Nota Afval 2026

1. Inleiding

Opgave
De gemeente wil het restafval per inwoner halveren. Daarom komt er per 1 januari 2027 een
nieuw tarief voor elke zak restafval die een huishouden aan de straat zet, zodat scheiden

Gemeente Noordstad – Nota Afval 2026    pagina 1

Nota Afval 2026

loont. Einddatum: 31-12-2027
Opgave
• Inzameling van gft elke week
De kosten van de nieuwe containers zijn geraamd op 1,2 miljoen euro in totaal voor alle

Gemeente Noordstad – Nota Afval 2026    pagina 2

Nota Afval 2026

wijken samen. Einddatum: 31-12-2027
Opgave
• Inzameling van gft elke week
Het college besluit in het voorjaar van 2027 over de tweede fase van de invoering.

Gemeente Noordstad – Nota Afval 2026    pagina 3

Nota Afval 2026

Bijlage. Einddatum: 31-12-2027
"""


def test_running_page_headers_and_footers_are_dropped_and_labels_kept():
    from ingest.clean import page_furniture

    lines = PAGED.split("\n")
    footers = {i for i, line in enumerate(lines) if "pagina" in line}
    headers = {i for i, line in enumerate(lines) if line == "Nota Afval 2026"}
    assert lines[1] == "Nota Afval 2026" and len(footers) == 3 and len(headers) == 4
    # the cover title stays; "Opgave", "Einddatum: 31-12-2027" and the repeated bullet too
    assert page_furniture(lines) == footers | (headers - {1})
    assert page_furniture(lines[:12]) == frozenset()  # one page: nothing recurs


_WRAPS = (
    "Contact\n\n"
    "Organisatoren hebben één vast aanspreekpunt: de evenementencoördinator, mevrouw I.\n"
    "(Iris) Baldewsingh-Kroon. Zij zit ook het overleg voor, waarin politie en brandweer\n"
    "elke week de aanvragen bespreken, zoals is vastgelegd in de regeling van artikel 3.\n"
    "Daarna volgt het besluit van de burgemeester over de aanvraag, de voorwaarden enz.\n"
    "Het college stelt jaarlijks de leges vast; voor een klein evenement zijn die € 850.¹\n"
    "Grote evenementen betalen meer.\n"
)


def test_a_line_wrapped_after_an_initial_is_no_paragraph_end():
    """"mevrouw I." ended its PDF line, so the name on the next line became a sentence of
    its own and "wie is het aanspreekpunt?" was answered without it."""
    sentences = [s for c in _paged_chunks(_WRAPS, "evenementen.txt") for s in c.sentences]
    named = next(s for s in sentences if "aanspreekpunt" in s.text)
    assert named.text.endswith("mevrouw I. (Iris) Baldewsingh-Kroon.")
    assert (named.line_start, named.line_end) == (3, 4)
    # a number, or a word that may close a sentence, still ends the paragraph
    assert any(s.text.endswith("artikel 3.") for s in sentences)
    assert any(s.text.startswith("Daarna volgt") and s.text.endswith("enz.") for s in sentences)


def test_a_footnote_mark_after_the_full_stop_ends_the_sentence():
    sentences = [s.text for c in _paged_chunks(_WRAPS, "evenementen.txt") for s in c.sentences]
    assert "Grote evenementen betalen meer." in sentences
    assert any(s.endswith("€ 850.¹") for s in sentences)


def test_sentence_across_a_page_break_is_one_provable_sentence():
    doc = document_from_text(PAGED, source="afval.txt")
    chunks = chunk_document(doc, SETTINGS)
    sentences = [s for c in chunks for s in c.sentences]
    across = next(s for s in sentences if "geraamd op 1,2 miljoen" in s.text)
    assert across.text.endswith("voor alle wijken samen.")
    assert "pagina" not in " ".join(c.text for c in chunks)
    assert traceability_problems(doc, chunks) == []


def _paged_chunks(text: str, source: str) -> list[Chunk]:
    """Chunks of a TXT-from-PDF document, checked to trace back to their lines."""
    doc = document_from_text(text, source=source)
    chunks = chunk_document(doc, Settings(chunk_min_words=1))
    assert traceability_problems(doc, chunks) == []
    return chunks


def test_table_rows_with_column_gaps_stay_rows_and_are_no_headings():
    # pdftotext keeps a table's columns apart with runs of spaces; a long row must not be
    # read as a wrapped line, nor a header of years as a section heading
    text = (
        "5.1 Budget per prioriteit\n"
        "De bedragen komen bovenop de structurele formatie van de afdeling.\n"
        "\n"
        "Prioriteit                           2025        2026        2027        2028\n"
        "Ondermijning en georganiseerde misdaad   € 310.000   € 325.000   € 340.000\n"
        "Woninginbraak                        €  85.000   €  85.000   €  70.000\n"
        "Totaal                               € 395.000   € 410.000   € 410.000\n"
    )
    chunks = _paged_chunks(text, "plan.txt")
    sentences = [s for c in chunks for s in c.sentences]
    rows = [(s.text.split()[0], s.line_start, s.line_end, s.heading)
            for s in sentences if s.line_start >= 4]
    assert rows == [("Prioriteit", 4, 4, False), ("Ondermijning", 5, 5, False),
                    ("Woninginbraak", 6, 6, False), ("Totaal", 7, 7, False)]
    assert all("Prioriteit" not in part for c in chunks for part in c.section)


def test_contents_entries_are_dropped_and_the_real_headings_remain():
    text = (
        "Beleidsnota Schulden\n\n"
        "Inhoudsopgave\n"
        "1 Inleiding ............................................ 3\n"
        "2 Schuldhulpverlening . . . . . . . . . . . . . . . . . . 7\n"
        "\n"
        "1 Inleiding\n"
        "De gemeente helpt inwoners met schulden sneller dan voorheen.\n"
        "\n"
        "2 Schuldhulpverlening\n"
        "Een medewerker belt binnen vijf werkdagen terug.\n"
    )
    chunks = _paged_chunks(text, "nota.txt")
    assert "...." not in " ".join(c.text for c in chunks)
    assert ". . . ." not in " ".join(c.text for c in chunks)
    sentences = {s.text: s for c in chunks for s in c.sentences}
    headings = [(s.text, s.line_start) for s in sentences.values() if s.heading]
    assert ("1 Inleiding", 7) in headings and ("2 Schuldhulpverlening", 10) in headings
    assert all(line >= 7 for text, line in headings if text[0].isdigit())
    assert sentences["Een medewerker belt binnen vijf werkdagen terug."].line_start == 11


def test_a_contents_list_without_dot_leaders_is_no_heading_of_the_text():
    """The last entry ("Bijlage  Overzicht ...") was read as a heading and became the
    parent section of every chapter after it."""
    text = (
        "Raadsinformatiebrief\n\n"
        "Inhoud\n"
        "1  Aanleiding\n"
        "2  Kernboodschap\n"
        "3  Financiën\n"
        "Bijlage  Overzicht strooiacties per maand\n"
        "\n"
        "Geachte raadsleden,\n\n"
        "1 Aanleiding\n"
        "De raad vroeg in januari om een overzicht van het winterseizoen.\n\n"
        "2 Kernboodschap\n"
        "Het seizoen was het zwaarste sinds 2010.\n\n"
        "Bijlage  Overzicht strooiacties per maand\n"
        "In december is elf keer gestrooid.\n"
    )
    chunks = _paged_chunks(text, "brief.txt")
    sections = {c.section_path for c in chunks if "zwaarste" in c.text}
    assert sections and all("Bijlage" not in s and "Inhoud" not in s for s in sections)
    assert all("Kernboodschap" in s for s in sections)
    lines = {line for c in chunks for s in c.sentences
             for line in range(s.line_start, s.line_end + 1)}
    assert not lines & set(range(3, 8))  # the contents page is no text to quote
    appendix = next(c for c in chunks if "elf keer" in c.text)
    assert "Bijlage" in appendix.section_path


def test_a_section_called_inhoud_with_text_under_it_stays():
    text = ("Inhoud\n"
            "De nota bestaat uit drie delen en een bijlage met cijfers.\n"
            "1 Aanleiding\n")
    chunks = _paged_chunks(text, "nota.txt")
    assert any("drie delen" in c.text for c in chunks)


@pytest.mark.parametrize("label", [
    "Portefeuillehouder: wethouder J. Bakkenes",
    "Portefeuillehouder  wethouder J. Bakkenes",  # label and value in two columns
])
def test_the_metadata_line_under_a_subject_heading_is_text_that_answers(label):
    """"wie is de portefeuillehouder" is answered by that line: as part of the heading
    it could never be quoted."""
    gap = ":" if ":" in label else "     "
    text = (f"Raadsinformatiebrief\n\n"
            f"Onderwerp{gap} Afsluiting Havenbrug en maatregelen voor de bereikbaarheid\n"
            f"{label}\n\n"
            "1 Aanleiding\n"
            "De Havenbrug is sinds maart afgesloten voor alle verkeer.\n")
    sentences = [s for c in _paged_chunks(text, "brief.txt") for s in c.sentences]
    headings = {s.line_start for s in sentences if s.heading}
    assert 3 in headings and 4 not in headings
    assert any(s.line_start == 4 and "Bakkenes" in s.text for s in sentences)


def test_each_line_of_a_metadata_block_is_its_own_sentence():
    """"wie is de projectleider" should quote that line, not the whole block run together."""
    text = ("Raadsvoorstel\n\n"
            "Portefeuillehouder: wethouder B. (Bas) Hendriksen, Mobiliteit en Economie en Sport\n"
            "Behandelend ambtenaar: ing. R.J. (Ruud) Veldkamp, beleidsadviseur verkeer\n"
            "Projectleider: F. (Fenna) Oldenkamp, afdeling Projecten en Programma's van de stad\n"
            "Datum          27 januari 2026\n\n"
            "1 Aanleiding\n"
            "De brug over het kanaal is aan vervanging toe, want de constructie is versleten.\n")
    sentences = [s for c in _paged_chunks(text, "voorstel.txt") for s in c.sentences]
    spans = {(s.line_start, s.line_end) for s in sentences if not s.heading}
    assert {(3, 3), (4, 4), (5, 5), (6, 6)} <= spans  # a label may be two or three words
    # "ing." is a title, not a sentence end: the name stays with its label
    assert any(s.text.startswith("Behandelend ambtenaar: ing. R.J. (Ruud) Veldkamp")
               for s in sentences)


def test_a_metadata_field_after_an_unpunctuated_line_stands_alone():
    """A register header: the "Vastgesteld …" line has no full stop and the preamble after
    the field is a long paragraph; run together they were one sentence of 120 words, which
    "welke wethouder is verantwoordelijk" could never quote."""
    text = ("Registratienummer: BK/2025/14872\n"
            "Vastgesteld door het college van burgemeester en wethouders op 9 december 2025\n"
            "Portefeuillehouder: wethouder M.A. Tjeerdsma-van Lent (Klimaat, Groen en Water)\n\n"
            "Het college van burgemeester en wethouders van de gemeente Bolderkamp; gelet op\n"
            "artikel 4:23 van de Algemene wet bestuursrecht en op het klimaatadaptatieplan;\n"
            "besluit vast te stellen de volgende regeling.\n")
    sentences = [s for c in _paged_chunks(text, "regeling.txt") for s in c.sentences]
    spans = {(s.line_start, s.line_end) for s in sentences}
    assert {(2, 2), (3, 3), (5, 7)} <= spans
    # a lower-case line still continues a field's value
    wrapped = ("Raadsinformatiebrief\n\n"
               "Kenmerk: RIB/2026/031\n"
               "Onderwerp: vervanging van de Havenbrug over het kanaal en de omleiding van het\n"
               "verkeer tijdens de werkzaamheden in 2026\n\n"
               "1 Aanleiding\n"
               "De Havenbrug is sinds maart afgesloten voor alle verkeer.\n")
    sentences = [s for c in _paged_chunks(wrapped, "brief.txt") for s in c.sentences]
    assert (4, 5) in {(s.line_start, s.line_end) for s in sentences}
    # a bulleted definition wraps like any item, also onto a capital after a blank line
    definition = ("Begrippen\n\n"
                  "• Regio Envelop: het bedrag van €900 miljoen dat beschikbaar is gesteld in\n\n"
                  "'Omzien naar elkaar' van het kabinet om nieuwe Regio Deals af te sluiten;\n"
                  "• Regiokassier: publieke regiopartner die de taak van kassier vervult;\n")
    sentences = [s for c in _paged_chunks(definition, "deal.txt") for s in c.sentences]
    assert (3, 5) in {(s.line_start, s.line_end) for s in sentences}


def test_justified_lines_with_a_wide_gap_after_the_first_word_still_join():
    """pypdf keeps the spacing of justified text: "wordt  ingezet" is no "Label  value"."""
    text = ("Het  college zet het budget voor de wijken in voor groen en spelen, en de raad\n"
            "wordt  ieder jaar over de besteding van het geld en de resultaten geïnformeerd.\n")
    sentences = [s for c in _paged_chunks(text, "nota.txt") for s in c.sentences]
    assert [(s.line_start, s.line_end) for s in sentences] == [(1, 2)]
    # a column gap does set a lower-case word apart: a list of abbreviations
    glossary = ("APV        Algemene plaatselijke verordening van de gemeente Veldhaven\n"
                "boa        buitengewoon opsporingsambtenaar in dienst van de gemeente\n")
    sentences = [s for c in _paged_chunks(glossary, "nota.txt") for s in c.sentences]
    assert [(s.line_start, s.line_end) for s in sentences] == [(1, 1), (2, 2)]


def test_an_explanatory_paragraph_that_opens_with_its_article_is_no_heading():
    text = ("Artikel 5 Zonnepanelen\n"
            "1. Zonnepanelen komen in aanmerking in combinatie met isolatie.\n\n"
            "Toelichting\n\n"
            "Artikel 5. Zonnepanelen komen alleen in combinatie met isolatie in aanmerking,\n"
            "omdat zonnepanelen zich ook zonder lening snel terugverdienen en de gemeente\n"
            "voorrang geeft aan het verminderen van de warmtevraag van woningen.\n")
    sentences = [s for c in _paged_chunks(text, "verordening.txt") for s in c.sentences]
    headings = {s.line_start for s in sentences if s.heading}
    assert {1} <= headings and 6 not in headings
    reason = next(s for s in sentences if "omdat" in s.text)
    assert not reason.heading and reason.line_start == 6


def test_chapter_numbers_without_a_dot_are_headings_but_footnotes_are_not():
    text = (
        "Nota Armoede\n\n"
        "2 Armoede en schulden\n\n"
        "2.1 Armoede\n"
        "In Vennebroek leven 2.960 huishoudens van een laag inkomen.\n\n"
        "2.2 Schulden\n"
        "Naar schatting hebben 1.850 huishoudens problematische schulden.\n\n"
        "1 Armoedemonitor.pdf (vennebroek.nl)\n"
    )
    chunks = _paged_chunks(text, "nota.txt")
    headings = {s.text for c in chunks for s in c.sentences if s.heading}
    # "2.2 Schulden" only repeats a word of "2 Armoede en schulden", but its number is new
    assert {"2 Armoede en schulden", "2.1 Armoede", "2.2 Schulden"} <= headings
    assert "1 Armoedemonitor.pdf (vennebroek.nl)" not in headings
    schulden = next(c for c in chunks if "1.850" in c.text)
    assert "2.2 Schulden" in schulden.section_path


def test_a_long_subsection_heading_is_not_joined_to_its_first_sentence():
    text = (
        "4 Argumenten\n\n"
        "4.3 Nieuwbouw van kindcentrum De Kastanjelaan heeft de hoogste prioriteit\n"
        "Het gebouw aan de Kastanjelaan dateert uit 1962 en heeft de laagste technische\n"
        "score van alle schoolgebouwen in de gemeente, zo blijkt uit de inspectie.\n"
    )
    chunks = _paged_chunks(text, "voorstel.txt")
    sentences = {s.text: s for c in chunks for s in c.sentences}
    heading = sentences["4.3 Nieuwbouw van kindcentrum De Kastanjelaan heeft de hoogste "
                        "prioriteit"]
    assert heading.heading and heading.line_start == 3
    assert any(t.startswith("Het gebouw aan de Kastanjelaan") for t in sentences)
