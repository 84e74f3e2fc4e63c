"""The access package and the person's e-mails are in the request's language, and every string the
person-facing templates use is translated in every language the portal offers."""

# The translations use typographic dashes and apostrophes, as the .po files do.
# ruff: noqa: RUF001

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

from dsr.workflow import casework
from dsr.workflow.models import Status
from tests.exports.conftest import TARGET_RECORDS
from tests.factories import RequestFactory

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
RECEIVED = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)
#: E-mails to staff and to processors stay in English.
STAFF_EMAILS = ("digest", "vendor_instruction")
PERSON_LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]


def _text(html: str) -> str:
    """The visible text of the page with tags removed and whitespace collapsed."""
    body = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).replace("&#x27;", "'").replace("&amp;", "&").split())


# --- the access package -------------------------------------------------------------------------


def test_a_german_package_has_its_cover_letter_and_the_art_15_section_in_german(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS}, language="de", received_at=RECEIVED)
    ref = answered.request.reference
    html = answered.index()
    text = _text(html)
    assert html.startswith('<!doctype html>\n<html lang="de">')
    assert f"<title>Ihre personenbezogenen Daten – Anfrage {ref}</title>" in html
    # Headings of the cover letter.
    for heading in (
        "<h1>Ihre personenbezogenen Daten</h1>",
        '<h2 id="summary-title" style="border-top:0;margin-top:0">Kurz gefasst</h2>',
        '<h2 id="letter-title">Was wir mit Ihren Daten tun</h2>',
        '<h2 id="withheld-title">Was wir nicht aufgenommen haben</h2>',
        '<h2 id="rights-title">Ihre Rechte</h2>',
        '<h2 id="files-title">Die Dateien in diesem Paket</h2>',
    ):
        assert heading in html
    assert f"Antwort auf Ihre Auskunftsanfrage {ref}, eingegangen am 5. März 2026." in text
    assert "Wir haben 3 Datensätze über Sie gespeichert." in text
    # The Art. 15 section: the supplementary information, citations unchanged.
    assert (
        "Wie es Artikel 15 der Datenschutz-Grundverordnung verlangt, erfahren Sie hier – zusätzlich zur "
        "Kopie der Daten selbst –, was wir mit Ihren personenbezogenen Daten tun, System für System."
    ) in text
    assert "Wofür wir sie verwenden DSGVO Art. 15(1)(a)" in text
    assert (
        "Web shop: Order fulfilment; Customer support (Rechtsgrundlage: Contract (GDPR Art. 6(1)(b)))" in text
    )
    assert "Welche Datenkategorien DSGVO Art. 15(1)(b)" in text
    assert "Wer sie erhält DSGVO Art. 15(1)(c), 15(2)" in text
    assert (
        "in unserem Auftrag betrieben von Shopware Hosting AG (Speicherort der Daten: EU (Frankfurt)); "
        "Parcel Express GmbH (DE); Helpdesk Cloud Inc. (US) außerhalb des EWR "
        "Garantie: EU-US Data Privacy Framework"
    ) in text
    assert (
        "Befindet sich ein Empfänger außerhalb des Europäischen Wirtschaftsraums, schützt die genannte "
        "Garantie die Übermittlung (DSGVO Art. 46); Sie können bei uns eine Kopie davon anfordern."
    ) in text
    assert "Wie lange wir sie speichern DSGVO Art. 15(1)(d)" in text
    assert "Woher sie stammen DSGVO Art. 15(1)(g) Web shop: von Ihnen" in text
    assert (
        "Automatisierte Entscheidungen und Profiling DSGVO Art. 15(1)(h), 22 Web shop: es werden keine "
        "ausschließlich automatisierten Entscheidungen über Sie getroffen und kein Profiling durchgeführt"
    ) in text
    assert (
        "DSGVO Art. 15(1)(f), 77 Sie haben das Recht auf Beschwerde bei einer Datenschutz-Aufsichtsbehörde"
    ) in text
    # What was withheld, with the notice the files carry.
    assert "Gespeichert, nicht offengelegt Sicherheit Ihres Kontos" in text
    assert "Sozialversicherungsnummer — Web shop, customers.ssn (1 Datensatz)" in text
    assert "Kontopasswort — Web shop, customers.password_hash (1 Datensatz)" in text
    assert "In den Dateien lautet ihr Wert „[gespeichert, nicht offengelegt]“." in text
    assert "Daten anderer Personen DSGVO Art. 15(4)" in text
    assert (
        "Betrieben von Shopware Hosting AG — Auftragsverarbeitungsvertrag unterzeichnet (DSGVO Art. 28)"
        in text
    )
    for english in ("What we do with your data", "Why we use it", "Your rights", "We hold", "record)"):
        assert english not in text


def test_a_german_package_has_its_readme_and_redaction_notices_in_german(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS}, language="de", received_at=RECEIVED)
    readme = answered.zip().read("README.txt").decode()
    assert readme.startswith(f"Ihre personenbezogenen Daten – Anfrage {answered.request.reference}\n")
    assert "\nWas das Paket enthält\n" in readme
    assert "\nWas wir gefunden haben (insgesamt 3 Datensätze)\n" in readme
    assert "- Web shop, customers.ssn: gespeichert, nicht offengelegt (Sozialversicherungsnummer)\n" in readme
    assert "- Web shop, orders.gift_recipient: entfernt, Daten einer anderen Person\n" in readme
    records = answered.data()["systems"]["shop"]["records"]
    assert records["customers"][0]["ssn"] == "[gespeichert, nicht offengelegt]"
    assert records["orders"][0]["gift_recipient"] == "[entfernt: Daten einer anderen Person]"
    assert "[entfernt: Daten einer anderen Person]" in answered.zip().read("csv/shop/orders.csv").decode()


def test_a_french_package_has_its_cover_letter_and_the_art_15_section_in_french(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS}, language="fr", received_at=RECEIVED)
    ref = answered.request.reference
    html = answered.index()
    text = _text(html)
    assert html.startswith('<!doctype html>\n<html lang="fr">')
    assert f"<title>Vos données personnelles — demande {ref}</title>" in html
    for heading in (
        "<h1>Vos données personnelles</h1>",
        '<h2 id="summary-title" style="border-top:0;margin-top:0">En bref</h2>',
        '<h2 id="letter-title">Ce que nous faisons de vos données</h2>',
        '<h2 id="withheld-title">Ce que nous n’avons pas inclus</h2>',
        '<h2 id="rights-title">Vos droits</h2>',
        '<h2 id="files-title">Les fichiers de cette archive</h2>',
    ):
        assert heading in html
    assert f"Réponse à votre demande d’accès {ref}, reçue le 5 mars 2026." in text
    assert "Nous détenons 3 enregistrements vous concernant." in text
    assert (
        "Comme l’exige l’article 15 du règlement général sur la protection des données, voici, système "
        "par système, ce que nous faisons de vos données à caractère personnel, en plus de la copie des "
        "données elles-mêmes."
    ) in text
    assert "Pourquoi nous les utilisons RGPD Art. 15(1)(a)" in text
    assert (
        "Web shop: Order fulfilment; Customer support (base juridique : Contract (GDPR Art. 6(1)(b)))" in text
    )
    assert "Quelles catégories de données RGPD Art. 15(1)(b)" in text
    assert "Qui les reçoit RGPD Art. 15(1)(c), 15(2)" in text
    assert "Helpdesk Cloud Inc. (US) hors de l’EEE garantie : EU-US Data Privacy Framework" in text
    assert "Combien de temps nous les conservons RGPD Art. 15(1)(d)" in text
    assert "D’où elles proviennent RGPD Art. 15(1)(g) Web shop: vous-même" in text
    assert "Décisions automatisées et profilage RGPD Art. 15(1)(h), 22" in text
    assert (
        "RGPD Art. 15(1)(f), 77 Vous avez le droit d’introduire une réclamation auprès d’une autorité de "
        "contrôle de la protection des données"
    ) in text
    assert "Informations détenues, non communiquées sécurité de votre compte" in text
    assert "Numéro de sécurité sociale — Web shop, customers.ssn (1 enregistrement)" in text
    assert "Dans les fichiers, leur valeur est « [détenu, non communiqué] »." in text
    assert answered.data()["systems"]["shop"]["records"]["customers"][0]["ssn"] == "[détenu, non communiqué]"
    for english in ("What we do with your data", "Why we use it", "Your rights", "We hold", "record)"):
        assert english not in text


def test_a_spanish_ccpa_package_cites_the_ccpa_in_spanish(answer, shop_system):
    text = _text(answer({shop_system: TARGET_RECORDS}, regime="CCPA", language="es").index())
    assert "Qué categorías de datos Cal. Civ. Code §1798.110(a)(1)" in text
    assert "Datos conservados, no divulgados 11 CCR §7024(d)" in text
    assert "La ley nos prohíbe comunicar estos datos, incluso a usted." in text
    assert "GDPR Art. 15(1)(a)" not in text


# --- the extension notice -----------------------------------------------------------------------


def test_the_extension_notice_to_a_spanish_speaker_is_in_spanish(
    mailoutbox, django_capture_on_commit_callbacks
):
    request = RequestFactory(
        jurisdiction="DE",
        regime="GDPR",
        language="es",
        email="juana@example.com",
        received_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        due_at=datetime(2026, 12, 2, 22, 59, 59, 999999, tzinfo=UTC),
        status=Status.IN_PROGRESS,
    )
    with django_capture_on_commit_callbacks(execute=True):
        casework.request_extend(
            request_id=request.pk,
            actor="staff:alice",
            reason="Sus datos están en doce sistemas.",
            now=datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        )
    ref = request.reference
    [mail] = mailoutbox
    assert mail.to == ["juana@example.com"]
    assert mail.subject == f"Necesitamos más tiempo para su solicitud {ref}"
    assert mail.body.startswith(f"Necesitamos más tiempo para responder a su solicitud {ref}.\n")
    assert "Le responderemos como muy tarde el 2 de febrero de 2027." in mail.body
    assert "Por qué necesitamos más tiempo:\nSus datos están en doce sistemas." in mail.body
    assert "Base jurídica: " in mail.body
    assert "La ley permite esta prórroga una sola vez" in mail.body
    assert "autoridad de control de protección de datos (art. 77 RGPD)" in mail.body
    html = mail.alternatives[0][0]
    assert '<html lang="es">' in html
    assert "<title>Necesitamos más tiempo</title>" in html
    assert f"Referencia: {ref}" in html
    for english in ("We need more time", "Why we need more time", "Legal basis"):
        assert english not in mail.body
        assert english not in html


# --- the catalogues -----------------------------------------------------------------------------

_CALL = re.compile(
    r"(?<![\w.])(?P<fn>npgettext|pgettext|ngettext|gettext|_)\("
    r"(?P<args>(?:\s*u?(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\s*,?)+)"
)
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _template_messages(path: Path) -> set[tuple[str, str]]:
    """(context, msgid) of every translatable string of a template, as makemessages extracts them."""
    found = set()
    for line in templatize(path.read_text(encoding="utf-8"), origin=str(path)).splitlines():
        for call in _CALL.finditer(line):
            args = ast.literal_eval("(" + call["args"].rstrip().rstrip(",") + ",)")
            context = args[0] if call["fn"].startswith(("p", "np")) else ""
            found.add((context, args[1] if context else args[0]))
    return found


def _person_facing_templates() -> list[Path]:
    exports = sorted((ROOT / "templates" / "exports").glob("*.*"))
    emails = sorted(
        p for p in (ROOT / "templates" / "emails").glob("*.*") if not p.name.startswith(STAFF_EMAILS)
    )
    return exports + emails


def _unquote(line: str) -> str:
    return str(ast.literal_eval(line))


def _catalogue(path: Path) -> dict[tuple[str, str], tuple[list[str], set[str]]]:
    """A tiny .po reader: (context, msgid) -> (msgstr forms, flags); obsolete entries are skipped."""
    entries: dict[tuple[str, str], tuple[list[str], set[str]]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        key = ""
        for line in block.strip().splitlines():
            if line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[key] += _unquote(line)
            else:
                key, _, value = line.partition(" ")
                fields[key] = _unquote(value)
        if fields.get("msgid"):
            forms = [v for k, v in fields.items() if k.startswith("msgstr")]
            entries[(fields.get("msgctxt", ""), fields["msgid"])] = (forms, flags)
    return entries


def test_the_reader_finds_the_strings_of_the_templates():
    messages = _template_messages(ROOT / "templates" / "exports" / "index.html")
    assert ("", "Your rights") in messages
    assert ("", "We hold %(counter)s record about you.") in messages
    assert ("", "retention period not recorded — ask us") in messages
    assert len(_person_facing_templates()) >= 14


@pytest.mark.parametrize("language", PERSON_LANGUAGES)
def test_every_string_of_the_package_and_the_persons_emails_is_translated(language):
    catalogue = _catalogue(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    problems = []
    for template in _person_facing_templates():
        for key in sorted(_template_messages(template)):
            where = f"{template.relative_to(ROOT)}: {key[1]!r}"
            if key not in catalogue:
                problems.append(f"{where} is not in the catalogue (run makemessages)")
                continue
            forms, flags = catalogue[key]
            if not forms or not all(forms):
                problems.append(f"{where} has an empty msgstr")
            elif "fuzzy" in flags:
                problems.append(f"{where} is fuzzy")
            elif any(
                sorted(set(_PLACEHOLDER.findall(f))) != sorted(set(_PLACEHOLDER.findall(key[1])))
                for f in forms
            ):
                problems.append(f"{where} does not keep its placeholders")
    assert problems == []


# --- the package names the request's own law and only the files it holds ------------------------


def test_a_californian_package_cites_the_ccpa_and_lists_only_the_files_it_holds(answer, shop_system):
    answered = answer({shop_system: TARGET_RECORDS}, regime="CCPA")
    readme = answered.zip().read("README.txt").decode()
    assert (
        "- data.json: every record, grouped by system and table, machine-readable "
        "(Cal. Civ. Code §1798.100(d)).\n" in readme
    )
    assert "GDPR" not in readme
    assert "- csv/<system>/<table>.csv: " in readme
    assert "csv/shop/orders.csv" in answered.zip().namelist()


def test_a_package_with_nothing_found_says_so_and_lists_no_csv_folder(answer, shop_system):
    answered = answer({shop_system: []}, regime="CCPA")
    names = answered.zip().namelist()
    assert not any(name.startswith("csv/") for name in names)
    readme = answered.zip().read("README.txt").decode()
    assert "csv/" not in readme
    html = answered.index()
    assert "<strong>csv/</strong>" not in html
    letter = _text(html.split('<section id="letter"')[1].split("</section>")[0])
    assert letter.endswith(
        "We found no personal data about you in any of our systems, so there are no purposes, recipients or "
        "retention periods to report."
    )


def test_a_german_package_names_the_dsgvo_in_its_readme(answer, shop_system):
    readme = answer({shop_system: TARGET_RECORDS}, language="de").zip().read("README.txt").decode()
    assert (
        "- data.json: alle Datensätze, nach System und Tabelle gruppiert, maschinenlesbar (DSGVO Art. 20).\n"
        in readme
    )
