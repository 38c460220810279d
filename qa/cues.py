"""Question types and the surface cues that a sentence answering that type carries.

Without an LLM, the question word is the strongest hint of what an answer looks like:
"wanneer" wants a date or year, "hoeveel" a number, "hoeveel geld" an amount, "wie" a
person or organisation, "waarom" a reason. A sentence lacking the cue is rarely the
answer, which also makes the cue a good abstention signal.
"""

from __future__ import annotations

import re
import unicodedata

YEAR = r"\b(?:19|20)\d{2}\b"
MONTHS = (
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|"
    r"december|jan|feb|mrt|apr|jun|jul|aug|sep|sept|okt|nov|dec"
)
# "wanneer" is answered by a day or a month far more often than by a year alone, which
# also stands in names ("Voorjaarsnota 2027") and periods ("2014-2024").
_NUMERIC_DATE = r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b"  # "15-03-2026", "1/7/26"
_DAY_OR_MONTH = (
    rf"{_NUMERIC_DATE}|\b(?:{MONTHS})\b|\bkwartaal\b|\bQ[1-4]\b|"
    r"\b(?:voorjaar|najaar|zomer|winter)\b"
)
DAY_OR_MONTH = re.compile(_DAY_OR_MONTH, re.IGNORECASE)
DATE = re.compile(rf"{YEAR}|{_DAY_OR_MONTH}", re.IGNORECASE)
# Dutch number words, also compounds such as "vijfentwintig" and "tweehonderd" (but not
# "achter"); "een" is left out here because it is mostly the article.
_TENS = r"twintig|dertig|veertig|vijftig|zestig|zeventig|tachtig|negentig|honderd|duizend"
NUMBER_WORD = (
    r"(?:twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf|twaalf|dertien|veertien|vijftien|"
    r"zestien|zeventien|achttien|negentien|"
    rf"{_TENS}|miljoen|miljard|tientallen|honderden|duizenden|een(?=en))(?:(?:en)?(?:{_TENS}))*\b"
)
NUMBER = re.compile(rf"\b\d+(?:[.,]\d+)*\b|\b(?:een\b|{NUMBER_WORD})", re.IGNORECASE)
# A count or measure: a number that is not the article "een", a year, part of a date or
# the label of a table, article or item ("Tabel 2.", "Artikel 4", "3. De aanvraag …").
# Nearly every sentence has one of those, but "hoeveel" is answered by this.
_NOT_A_COUNT = re.compile(
    rf"{_NUMERIC_DATE}|\b\d{{1,2}}\s+(?:{MONTHS})\b|{YEAR}|"
    r"\b(?:tabel|figuur|grafiek|bijlage|artikel|hoofdstuk|paragraaf|lid|fase)\s+\d+(?:\.\d+)*|"
    r"^\s*\d{1,2}(?:\.\d{1,2})*\.\s|^\s*\d{1,2}(?:\.\d{1,2})+\s", re.IGNORECASE)
_COUNT = re.compile(rf"\b\d+(?:[.,]\d+)*\b|\b{NUMBER_WORD}", re.IGNORECASE)
MONEY = re.compile(
    r"€|\beuro\b|\bEUR\b|\b\d+(?:[.,]\d+)?\s*(?:mln|miljoen|mld|miljard|k)\b|\bbudget\b|"
    r"\bbedrag\b|\bmiddelen\b|\bsubsidie\b",
    re.IGNORECASE,
)
REASON = re.compile(
    r"\b(?:omdat|doordat|zodat|want|vanwege|daardoor|daarom|dankzij|teneinde|"
    r"met als doel|doel is|doel van|om\s+\w+(?:\s+\w+){0,6}\s+te)\b",
    re.IGNORECASE,
)
# "Het aantal daalt daardoor": the cause is in the sentence before, not in this one.
BACKWARD_REASON = re.compile(r"\b(?:daardoor|daarom|hierdoor|hierom)\b", re.IGNORECASE)
WHO = re.compile(
    r"\b(?:gemeente|gemeenten|provincie|minister|ministerie|rijk|stichting|wethouder|"
    r"college|raad|partijen|regio|board|bv|b\.v\.|coa|ggd|universiteit|saxion|bestuur)\b|"
    r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zà-ÿ]+(?:\s+[A-Z][a-zà-ÿ]+)*",
)
# A named person or body ("de heer T. Vermaning", "wethouder M.J. Kuipers", "Stichting
# Welzijn", "Van Dorp B.V."): "wie" is answered by a name far more often than by the
# words "gemeente" or "college", which stand in nearly every sentence of a municipality.
_PERSON = (
    r"\b(?:de heer|mevrouw|dhr\.|mw\.|mr\.|ir\.|ing\.|drs\.|dr\.|prof\.)\s|"
    r"\b[A-Z]\.(?:[A-Z]\.)*\s*(?:\([A-Z][a-z]+\)\s*)?(?:van |de |der |den )*[A-Z][a-z]+"
)
PERSON = re.compile(_PERSON)
NAMED = re.compile(
    _PERSON + "|"
    r"\b(?:wethouder|burgemeester|directeur|voorzitter|voorzitterschap van|projectleider|"
    r"coördinator|programmamanager|contactpersoon|portefeuillehouder|secretaris|adviseur|"
    r"beleidsadviseur|gedeputeerde|minister)\s+(?:[A-Z]\.)*\s*[A-Z][a-z]+|"
    r"\b(?:Stichting|Vereniging|Coöperatie|Omgevingsdienst|Veiligheidsregio|GGD|Politie|"
    r"Samenwerkingsverband|Waterschap)\s+[A-Z]|\b[A-Z][\w-]+\s+(?:B\.V\.|BV|N\.V\.|U\.A\.)"
)
LIST = re.compile(r"[;•]|,.*,|\b(?:en|zoals|onder andere|o\.a\.)\b", re.IGNORECASE)
# "mag ik …?", "krijgen raadsleden ook …?": a yes or no is stated as a rule or a verdict,
# with a negation, a restriction or a modal verb. Two thirds of the writers' evidence
# sentences for yes/no questions have one, against one in eight sentences overall.
VERDICT = re.compile(
    r"\b(?:geen|niet|nooit|niets|nergens|wel|alleen|uitsluitend|mag|mogen|moet|moeten|kan|"
    r"kunnen|hoeft|hoeven|dient|dienen|verboden|toegestaan|verplicht|vrijgesteld|blijft|"
    r"blijven)\b", re.IGNORECASE)

# An enumeration item as the chunker leaves it: bullets are stripped, markers such as
# "a.", "2°" and "3." stay, and items end in ";" or without a full stop.
_ITEM_MARKER = re.compile(r"^\(?(?:\d{1,2}|[a-z])(?:[.)]|°)\s")
_ITEM_MAX_WORDS = 25


def is_item(text: str) -> bool:
    """An enumeration item by its own form: it ends in ";" or starts with a marker."""
    text = text.strip()
    return text.endswith(";") or bool(_ITEM_MARKER.match(text))


def enumeration(sentences) -> list[bool]:
    """Which sentences (``ingest.types.Sentence``) open or belong to an enumeration: one
    ending in ":" or ";" or starting with an item marker, and a short one right after one
    of those (the last item, or a bullet without punctuation). Headings never belong. A
    list question is answered by the list, and the answerer grows a member into it
    (qa/extractive.py)."""
    out: list[bool] = []
    for i, sentence in enumerate(sentences):
        text = "" if sentence.heading else sentence.text.strip()
        member = text.endswith(":") or is_item(text)
        if not member and text and out and out[-1]:
            member = (not sentences[i - 1].text.rstrip().endswith(".")
                      and len(text.split()) <= _ITEM_MAX_WORDS)
        out.append(member)
    return out


_CLAUSE_VERB = (r"(?:kan|kun|kunt|mag|moet|krijg|krijgt|komt|kom|wordt|word|hoef|hoeft|is|ben|"
                r"geldt|telt|heb|heeft|valt|val|ga|gaat|mogen|moeten|kunnen|krijgen|zijn)")

TYPE_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("why", re.compile(r"\bwaarom\b|\breden\b|\bwaarvoor\b|\bmet welk doel\b|\bdoel van\b|"
                       r"\bhoe komt het\b|\bhoe (?:verklaren|verklaar)\b|\bhoe kan (?:dat|het)\b|"
                       r"\bwaardoor (?:is|zijn|was|waren|had|hadden|heeft|hebben)\b")),
    ("date", re.compile(
        r"\bwanneer\b|\bwelk jaar\b|\bin welk jaar\b|\btot wanneer\b|\bper wanneer\b|"
        r"\bhoe ?lang\b.*\bnog\b|\bdatum\b|\beinddatum\b|\bpeildatum\b|\bdeadline\b|"
        r"\bloopt\b.*\baf\b|\bvanaf wanneer\b|\bop welke dag\b|\bin welke (?:periode|maand|week)\b"
    )),
    ("money", re.compile(
        r"\bhoeveel\b.*\b(?:geld|euro|budget|kost|kosten|bedrag|subsidie|bijdrage|"
        r"financiering|investering|middelen|miljoen|mln)\b|\bwat kost(?:te|ten)?\b|\bhoe duur\b|"
        r"\bhoe groot is het (?:budget|bedrag)\b|\bwelk bedrag\b|€"
    )),
    ("number", re.compile(
        r"\bhoeve+l\b|\bhvl\b|\bhoe veel\b|\baantal\b|\bpercentage\b|\bwelk (?:deel|aandeel|%)|"
        r"\bhoe (?:groot|vaak|hoog|oud|ver|diep|breed|dik|zwaar|snel)\b|"
        r"\bhoe ?lang\b|\bwelke \w*termijn\b"
    )),
    ("who", re.compile(
        r"^(?:\W*)wie\b|\b(?:door|met|van|bij|aan|voor|naar|tot|namens) wie\b|"
        r"\bwelke (?:partij|partijen|organisatie|organisaties|gemeente|gemeenten)\b|"
        r"\bwelke? (?:\w+ )?(?:minister|ministers|wethouder|raadslid|bedrijf|\w*bureau|"
        r"aannemer|ontwikkelaar|leverancier|instantie|\w*corporatie)\b"
    )),
    ("list", re.compile(
        r"\bwelke\b.*\b(?:zijn|worden|noem)\b|\bnoem\b|\bwat zijn de\b|\bopsomming\b|"
        r"\bwat (?:zijn|waren)\b.*\bde (?:\w+ )?\w+(?:en|s|'s)\b|\btop ?\d\b|"
        r"\bwelke (?:\d+|twee|drie|vier|vijf|zes|zeven|acht|negen|tien) \w+|"
        r"\bwelke (?:\w+e )?(?!is\b|was\b)\w+(?:en|s|'s)\b|\ballemaal\b|\boverzicht\b|"
        r"\bwelke \w*criteria\b|\bwaaruit bestaat\b|\bwaar bestaat\b.*\buit\b|"
        r"\bwat moet er (?:minimaal|in elk geval|allemaal)\b|\bwat voor soorten\b"
    )),
    ("yes_no", re.compile(
        r"^(?:\W*)(?:is|zijn|heeft|hebben|heb|had|hadden|kan|kunnen|mag|mogen|moet|moeten|"
        r"wordt|worden|gaat|gaan|komt|komen|doet|doen|valt|vallen|zit|zitten|krijgt|krijgen|"
        r"krijg|staat|staan|klopt|geldt|gelden|blijft|blijven|betaalt|betalen|draagt|dragen|"
        r"werkt|werken|zet|zetten|stapt|accepteert|voldoet|voldoen|legt|leggen|ligt|liggen|"
        r"rijdt|rijden|spuit|bestaat|bestaan|neemt|nemen|geeft|geven|houdt|telt|hoort|"
        r"wil|willen|zal|zullen|kent|biedt|bieden|verandert|stijgt|daalt|ontvangt|vervalt|"
        r"stopt|start|sluit|was|waren|werd|werden|kon|konden|kun|kunt|mocht|mochten|moest|"
        r"moesten|zou|zouden|hoef|hoeft|hoeven|ben|bent|betaal|kreeg|kregen|zat|zaten|ging|"
        r"gingen|vond|vonden|vindt|vinden|tellen|haalt|halen|rekent|rekenen|leent|lenen|"
        r"loopt|lopen|slaat|slaan|gebruikt|gebruiken|behandelt|behandelen|beheert|beheren|"
        r"hangt|hangen|helpt|helpen|maakt|maken|regelt|regelen|scoorde|strooit|springt|horen)\b|"
        # "mijn pand is een monument, kan ik de subsidie aanvragen?": the question is the
        # clause after the situation
        rf",\s*(?:dan\s+)?{_CLAUSE_VERB}\s+(?:ik|je|jij|hij|zij|ze|we|wij|u|die|dat|het|er)\b"
    )),
    # a measure named by its noun ("wat is de weerstandsratio"), unless asked yes or no
    ("number", re.compile(r"\w*percentage\b|\w*ratio\b|\bhoeveelste\b|\brapportcijfer\b|"
                          r"\bwelke leeftijd\b")),
]


# The types whose answers have a surface form to look for; "what" has none.
CUE_TYPES = ("date", "money", "number", "why", "who", "list", "yes_no")


# "wat betaal je per uur", "hoe hoog is de dwangsom", "wat zijn de leges": an amount is
# asked without "hoeveel geld". Only a what-, number- or list-question is read so: "wie
# betaalt" asks for a payer, "krijgt een club subsidie?" for yes or no. Money nouns are
# often compounds: "voorbereidingskrediet", "subsidieplafond", "uurtarief".
_MONEY_NOUN = (
    r"\w*(?:kosten|budget|bedrag|subsidie|bijdrage|krediet|tarief|tarieven|leges|prijs|"
    r"prijzen|vergoeding|toeslag|huur|lening|investering|opbrengst|inkomsten|uitgaven|"
    r"premie|borg|plafond|dwangsom|boete|rente|begroting|salaris|pacht|belasting|"
    r"heffing|lasten|winst|tegoed)\b|"
    r"\b(?:euro|inkomen|waard|geld|rijksgeld)\b"
)
_MONEY_WORDS = re.compile(
    r"\b(?:wat|hoe hoog|hoe groot|hoeveel)\b.*(?:\b(?:kost|kostte|kostten|gekost|begroot|"
    r"betaald|betaal|betaalt|betalen|geïnvesteerd|geinvesteerd|uitgegeven|uitgekeerd|"
    rf"opgebracht|oplevert|opleveren)\b|{_MONEY_NOUN})"
)
# "hoeveel krijgt een club per jeugdlid", "wat krijg je per m2": what is given, paid or
# received, counted per unit, is an amount; "hoeveel leerlingen krijgen" counts pupils.
_MONEY_VERB = (
    r"(?:krijgt|krijg|krijgen|kreeg|kregen|geeft|geven|gaf|legt|leggen|draagt|dragen|"
    r"brengt|brengen|levert|leveren|leent|lenen|stort|storten|reserveert|ontvangt|"
    r"ontvangen|verdient|bespaart|rekent|vraagt|investeert|steekt)"
)
# "hoeveel huishoudens kregen de toeslag", "over hoeveel jaar terugbetalen": a count or a
# duration, whatever money words follow. After "hoeveel", these words name no counted thing.
_NOT_A_THING = (
    r"(?:is|was|zijn|waren|wordt|worden|werd|werden|heeft|hebben|had|hadden|moet|moeten|"
    r"moest|moesten|gaat|gaan|ging|gingen|kan|kunnen|kon|konden|mag|mogen|zal|zullen|wil|"
    r"willen|kost|kosten|kostte|kostten|betaalt|betaal|betalen|betaalde|betaalden|bracht|"
    r"brachten|bedraagt|bedragen|extra|meer|minder|er)"
)
_COUNTED = re.compile(rf"\bhoeveel\s+(?!(?:{_NOT_A_THING}|{_MONEY_VERB})\b|{_MONEY_NOUN})"
                      r"(?:procent|jaar|maand|week|dag|uur|keer|[\w-]+(?:en|s|'s))\b|"
                      r"\b(?:over|in|na|binnen) hoeveel\b|%")
_MONEY_ACT = re.compile(rf"\bhoeveel\s+(?:geld\s+)?{_MONEY_VERB}\b|"
                        rf"\bwat\s+{_MONEY_VERB}\b.*\bper\b")
# "max subsidie per adres?", "totale investering zonnepark?": a bare noun phrase naming
# an amount, without any question word.
_ASKS = re.compile(r"\b(?:wat|welk|welke|wie|hoe|hoeveel|wanneer|waarom|"
                   r"waar(?:door|mee|voor|in|op|aan|uit|over|bij|van|heen|na)?)\b")
_MONEY_PHRASE = re.compile(_MONEY_NOUN)


# "wat gebeurt er als de huur niet betaald wordt", "wat verandert er aan munten betalen",
# "wat doen we met de winst", "wat is een saneringskrediet": a consequence, a change, a
# deed or a meaning is asked, not an amount, whatever money words follow.
_NOT_AN_AMOUNT = re.compile(r"\bwat (?:gebeurt|verandert|als|houdt|betekent|is een)\b|"
                            r"\bwat\b.*\b(?:doen|doet|gedaan)\b")


def question_type(question: str) -> str:
    q = question.lower().strip()
    name = next((name for name, pattern in TYPE_PATTERNS if pattern.search(q)), "what")
    if name not in ("what", "number", "list") or _NOT_AN_AMOUNT.search(q):
        return name
    if (_MONEY_WORDS.search(q) or _MONEY_ACT.search(q)) and not _COUNTED.search(q):
        return "money"
    if name == "what" and not _ASKS.search(q) and _MONEY_PHRASE.search(q):
        return "money"
    return name


# "hoe vaak", "hoe groot", "hoe heet": the word after "hoe" says what form the answer
# takes, not what it is about, and answers rarely repeat it.
_QUESTION_FORM = re.compile(r"\bhoe\s+[^\W\d_]+", re.IGNORECASE)


def subject(question: str) -> str:
    """The question without its question-form words, for matching against sentences."""
    return _QUESTION_FORM.sub("hoe", question)


# The forms whose value can be checked against the question: a year, amount, count or
# name the question already states is no answer to it. "een" is left out: it is the article.
NEW_VALUE = {
    "date": DATE,
    "number": _COUNT,
    "money": re.compile(rf"€\s*\d[\d.,]*|\b(?:\d[\d.,]*|{NUMBER_WORD})\s*"
                        r"(?:mln|miljoen|mld|miljard|k|euro)\b", re.IGNORECASE),
    "who": re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*"),
}


def new_value(qtype: str, sentence: str, question: str) -> float:
    """1.0 when the sentence holds a value of the asked form that the question lacks:
    "hoeveel deelnemers in 2017?" is not answered by a sentence whose only number is 2017."""
    pattern = NEW_VALUE.get(qtype)
    if pattern is None:
        return 0.5
    asked = question.lower()
    return float(any(m.group(0).lower() not in asked for m in pattern.finditer(sentence)))


_YEAR_RANGE = re.compile(rf"({YEAR})\s*(?:-|–|—|t/m|tot en met|tot)\s*({YEAR})")


def years(text: str) -> set[int]:
    """The years a text speaks of, a period ("2026-2028") as each of its years."""
    found = {int(y) for y in re.findall(YEAR, text)}
    for a, b in _YEAR_RANGE.findall(text):
        if int(a) < int(b) <= int(a) + 30:
            found.update(range(int(a), int(b) + 1))
    return found


def other_year(question: str, text: str) -> bool:
    """Does ``text`` speak of years, none of them one the question asks about? "hoeveel
    casussen in 2024?" is not answered by "In 2025 werden 186 casussen aangemeld"."""
    asked = years(question)
    said = years(text) if asked else set()
    return bool(said) and not asked & said


# "hoeveel uur", "welk percentage": the unit the answer must be given in.
_UNITS = {
    "procent": r"%|procent", "percentage": r"%|procent", "%": r"%|procent",
    "uur": r"\buur\b|\buren\b", "uren": r"\buur\b|\buren\b", "dagen": r"\bdag",
    "weken": r"\bweek|\bweken\b", "maanden": r"\bmaand", "jaar": r"\bjaar|\bjaren\b",
    "jaren": r"\bjaar|\bjaren\b", "meter": r"\bm\b|meter|\bkm\b", "m2": r"m2|m²|vierkante",
    "vierkante": r"m2|m²|vierkante", "hectare": r"hectare|\bha\b",
    "kilometer": r"\bkm\b|kilometer", "km": r"\bkm\b|kilometer", "kilo": r"\bkg\b|kilo",
    "kg": r"\bkg\b|kilo", "ton": r"\bton\b", "liter": r"liter",
}
_ASKED_UNIT = re.compile(r"\b(?:hoeveel|welk)\s+(" + "|".join(map(re.escape, _UNITS))
                         + r")(?!\w)", re.IGNORECASE)


def asked_unit(question: str) -> re.Pattern | None:
    """The unit a "hoeveel uur"/"welk percentage" question wants its answer in; not "welk
    jaar", which asks for a year."""
    m = _ASKED_UNIT.search(question)
    if m is None or (m.group(0).lower().startswith("welk") and m.group(1).lower() != "percentage"):
        return None
    return re.compile(_UNITS[m.group(1).lower()], re.IGNORECASE)


def cue_score(qtype: str, sentence: str) -> float:
    """1.0 when the sentence carries the surface form the question type asks for."""
    if qtype == "date":
        if DAY_OR_MONTH.search(sentence):
            return 1.0
        return 0.6 if DATE.search(sentence) else 0.0
    if qtype in ("money", "number"):
        counts = _COUNT.search(_NOT_A_COUNT.sub(" ", sentence))
        if counts and (qtype == "number" or MONEY.search(sentence)):
            return 1.0
        return 0.3 if NUMBER.search(sentence) else 0.0
    if qtype == "why":
        return 1.0 if REASON.search(sentence) else 0.0
    if qtype == "who":
        if NAMED.search(sentence):
            return 1.0
        return 0.6 if WHO.search(sentence) else 0.0
    if qtype == "list":
        return 1.0 if LIST.search(sentence) else 0.3
    if qtype == "yes_no":
        return 1.0 if VERDICT.search(sentence) else 0.3
    return 0.5  # "what" has no reliable surface cue


# "wie is de voorzitter van …" asks for the person in a function. Documents name such a
# person with the function ("Voorzitter is Mirjam Dekkers", "Teamleider is Ingrid
# Veldkamp") or by title or initials ("mr. E.M. Kroeze"). A quote with neither is about
# the organisation, not its officer. Functions that organisations hold ("trekker",
# "kassier", "concessieverlener") are not in the list.
_ROLES = (
    "voorzitter", "directeur", "wethouder", "burgemeester", "griffier", "secretaris",
    "projectleider", "programmaleider", "teamleider", "manager", "coordinator",
    "contactpersoon", "aanspreekpunt", "teamchef", "bestuurder", "architect", "dierenarts",
    "havenmeester", "penningmeester", "kwartiermaker", "adviseur", "commandant",
    "controller", "controler", "functionaris", "accounthouder", "gedeputeerde",
    "portefeuillehouder", "ombudsman", "ambassadeur",
)
_ASKED_ROLE = re.compile(r"^\s*wie\s+(?:is|was|wordt|werd|zijn|waren|worden)\b.*?"
                         r"\b[\w-]*?(" + "|".join(_ROLES) + r")s?\b")
_ROLE_SAID = {"voorzitter": ("voorzitter", "voorgezeten")}


def _plain(text: str) -> str:
    """Lowercased without accents: "Bibob-coördinator" is typed "bibob-coordinator"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                   if not unicodedata.combining(c))


def names_no_officer(question: str, text: str) -> bool:
    """Does a "wie is de <function>" question get a text that names neither that function
    nor a person by title or initials?"""
    m = _ASKED_ROLE.match(_plain(question))
    if m is None or PERSON.search(text):
        return False
    said = _plain(text)
    return not any(w in said for w in _ROLE_SAID.get(m.group(1), (m.group(1),)))
