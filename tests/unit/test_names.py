"""The name detector: person names in Norwegian case notes, and capitalised words that are not."""

from __future__ import annotations

import re
from functools import cache
from itertools import pairwise
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.privacy.names import (
    NameLexicon,
    NameLexiconError,
    NameSpan,
    find_names,
    parse_name_lexicon,
)

NAMES_YAML = Path(__file__).resolve().parents[2] / "content" / "names.yaml"


@cache
def _raw() -> dict[str, object]:
    raw = yaml.safe_load(NAMES_YAML.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


@cache
def lexicon() -> NameLexicon:
    return parse_name_lexicon(_raw())


def names_in(text: str) -> list[str]:
    return [span.text for span in find_names(text, lexicon())]


# -- the three examples from the issue, with exact spans --


def test_kari_nordmann_after_an_ordinary_sentence_start() -> None:
    text = "Saken gjelder Kari Nordmann"
    assert find_names(text, lexicon()) == [NameSpan(14, 27, "Kari Nordmann", "list")]


def test_two_names_one_after_a_role_word() -> None:
    text = "Møte med Ola Hansen og saksbehandler Fatima Ali"
    spans = find_names(text, lexicon())
    assert [(s.start, s.end, s.text) for s in spans] == [
        (9, 19, "Ola Hansen"),
        (37, 47, "Fatima Ali"),
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert [s.reason for s in spans] == ["context", "context"]


def test_pupil_at_sentence_start_and_class_is_not_a_name() -> None:
    text = "Eleven Jonas Berg i 7B"
    assert find_names(text, lexicon()) == [NameSpan(7, 17, "Jonas Berg", "context")]


# -- forms of names --


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brukeren Anne-Lise Johansen ønsker besøk.", ["Anne-Lise Johansen"]),
        ("Pasienten Ingrid Solberg Haugen fikk medisin.", ["Ingrid Solberg Haugen"]),
        ("Klage fra Svein Arne Lie er mottatt.", ["Svein Arne Lie"]),
        ("Henvendelse fra Pieter van der Berg om graving.", ["Pieter van der Berg"]),
        ("Erika von Essen er innlagt.", ["Erika von Essen"]),
        ("Ahmad al-Hassan har fått bolig.", ["Ahmad al-Hassan"]),
        ("Jamal bin Khalid har søkt stønad.", ["Jamal bin Khalid"]),
        ("Liam McCarthy har byttet klasse.", ["Liam McCarthy"]),
        ("Siobhan O'Brien tar kontakt.", ["Siobhan O'Brien"]),
        ("Helsefagarbeider Maricel dela Cruz dokumenterte.", ["Maricel dela Cruz"]),
    ],
)
def test_hyphenated_multi_part_and_particle_names(text: str, expected: list[str]) -> None:
    assert names_in(text) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Máret Ánne Sara",  # Sámi
        "Abdirahman Mohamed Ali",  # Somali
        "Rami Alkhatib",  # Syrian
        "Katarzyna Nowak",  # Polish
        "Aistė Balčiūnaitė",  # Lithuanian
        "Semhar Tesfay",  # Eritrean
        "Oleksandr Shevchenko",  # Ukrainian
        "Maria Santos",  # Filipino
        "Nguyen Van An",  # Vietnamese, family name first
        "Somchai Saetang",  # Thai
    ],
)
def test_names_of_many_origins_are_found_mid_sentence(name: str) -> None:
    assert names_in(f"Vi har hatt samtale i dag, og {name} møtte opp.") == [name]


def test_unlisted_name_after_a_context_word_is_found_by_context() -> None:
    assert find_names("Saksbehandler Zyxo Quarnth har saken.", lexicon()) == [
        NameSpan(14, 26, "Zyxo Quarnth", "context")
    ]


def test_a_list_of_first_names_and_a_list_after_a_context_word() -> None:
    assert names_in("Ola, Kari og Per var til stede.") == ["Ola", "Kari", "Per"]
    assert names_in("Samtale med Zyxo Quarnth og Brilo Vendt.") == ["Zyxo Quarnth", "Brilo Vendt"]


def test_titles_and_greetings_are_context_not_part_of_the_name() -> None:
    assert find_names("Undersøkt av dr. Hansen i dag.", lexicon()) == [
        NameSpan(17, 23, "Hansen", "context")
    ]
    assert names_in("Fru Berit ringte.") == ["Berit"]
    assert names_in("Med vennlig hilsen\nAstrid Moen\nSaksbehandler") == ["Astrid Moen"]
    assert names_in("Hei Helene! Vedlagt er vedtaket.") == ["Helene"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Brukaren Kari Nordmann ønskjer besøk.", "Kari Nordmann"),
        ("Bebuaren Zyxo Quarnth har fått rullestol.", "Zyxo Quarnth"),
        ("Sakshandsamar Zyxo Quarnth har saka.", "Zyxo Quarnth"),
        ("Mora Zyxo Quarnth ønskjer ikkje det.", "Zyxo Quarnth"),
        ("Faren Zyxo Quarnth kjem på møtet.", "Zyxo Quarnth"),
        ("Pasienten Zyxo Quarnth vart sendt heim.", "Zyxo Quarnth"),
        ("Brukeren Zyxo Quarnth ønsker besøk.", "Zyxo Quarnth"),
        ("Kontaktlærer Zyxo Quarnth melder fravær.", "Zyxo Quarnth"),
        ("Hun ble henvist av fastlege Zyxo Quarnth.", "Zyxo Quarnth"),
    ],
)
def test_context_words_in_bokmal_and_nynorsk(text: str, expected: str) -> None:
    assert names_in(text) == [expected]


# -- what is not a name --


@pytest.mark.parametrize(
    "text",
    [
        "Oslo, Bergen og Trondheim har gratis skolemat.",
        "Biblioteket i Drammen har utvidet åpningstid.",
        "Kontoret flytter til nye lokaler på Stovner.",
        "Statens vegvesen stenger veien ved Asker.",
        "Nye Veier har lagt fram ny trasé.",
        "NAV Bærum holder stengt.",
        "Helse Bergen og Bergen kommune samarbeider.",
        "Udir har publisert nye retningslinjer.",
        "Datatilsynet og Helsedirektoratet har laget en veileder.",
        "Asker kommune og Vestland fylkeskommune inviterer.",
        "Elevene ved Bekkestua skole og Furuly barnehage vant.",
        "Haukeland universitetssjukehus utvider.",
        "Vi har avtale med Hansen Bygg AS.",
        "Vi bruker Copilot, ChatGPT og Google Gemini.",
        "Microsoft Teams, Word, Excel og Outlook oppgraderes.",
        "Veiarbeid i Storgata 12 og langs Drammensveien.",
        "Strømbrudd i Kong Haakons gate fra Kirkeveien 4.",
        "Arbeidet i Lindeveien 3 er ferdig.",
        "Saken gjelder søknad om dispensasjon.",
        "Mandag og Fredag er det åpent; Juni og Desember er stengt.",
        "Møtet ble holdt på Teams. Referat sendes fredag.",
        "Trondheim kommune og NTNU lanserer en lab.",
    ],
)
def test_places_institutions_products_streets_and_dates_are_not_names(text: str) -> None:
    assert names_in(text) == []


def test_a_name_next_to_an_institution_is_still_found() -> None:
    assert names_in("Kari Nordmann fra Asker kommune ringte NAV.") == ["Kari Nordmann"]


# -- names that are not in the lists: rules that go by the shape of the text --


def test_two_unlisted_capitalised_words_inside_a_sentence_are_a_name() -> None:
    text = "Vi venter svar, og Zyxo Quarnth har saken."
    assert find_names(text, lexicon()) == [NameSpan(19, 31, "Zyxo Quarnth", "shape")]


@pytest.mark.parametrize(
    "text",
    [
        "Julekurvene deles ut av Røde Kors og Norsk Folkehjelp.",  # adjectives of organisations
        "Leksehjelpen drives av Kirkens Bymisjon i vinter.",  # genitive noun
        "Skjemaene flyttes til Power Automate neste år.",  # English product words
        "Vi har avtale med Kvinesdal Frivilligsentral.",  # a noun ending makes an organisation
    ],
)
def test_capitalised_runs_with_an_ordinary_word_are_not_names(text: str) -> None:
    assert names_in(text) == []


def test_two_unlisted_words_at_the_start_of_a_sentence_are_a_name() -> None:
    assert names_in("Zyxo Quarnth ønsker besøk etter klokka ti.") == ["Zyxo Quarnth"]
    assert names_in("Søknaden er mottatt. Brilo Vendt-Aas har levert alt.") == ["Brilo Vendt-Aas"]


def test_an_organisation_at_the_start_of_a_sentence_is_not_a_name() -> None:
    assert names_in("Trafikksikker kommune: Trygg Trafikk har godkjent oss.") == []
    assert names_in("Norsk Folkehjelp og Frelsesarmeen deler ut mat.") == []


def test_a_title_case_heading_is_not_a_name_but_a_listed_name_in_it_is() -> None:
    assert names_in("Referat Fra Driftsmøte I Helse Og Omsorg") == []
    assert names_in("Vedtak Om Tildeling Av Kommunal Bolig") == []
    assert names_in("Referat Fra Samtale Med Kari Nordmann") == ["Kari Nordmann"]


def test_a_function_word_starting_the_sentence_is_not_part_of_the_name() -> None:
    assert names_in("Kan Zyxo Quarnth få time før jul?") == ["Zyxo Quarnth"]
    assert names_in("Kan Norsk Folkehjelp stille med frivillige?") == []


def test_a_role_noun_before_an_unlisted_name_at_sentence_start_is_dropped() -> None:
    assert names_in("Avløser Zyxo Quarnth meldte fra om feber.") == ["Zyxo Quarnth"]
    assert names_in("Hjemmehjelpen Brilo Van Quarn har fått nøkkel.") == ["Brilo Van Quarn"]
    assert names_in("Hjemmetjenesten Nord melder om travle dager.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Zyxo har vært borte fra skolen i fire dager.",
        "Zyxo orienterte om ny turnus.",
        "Zyxo fortel at ho ikkje får gå ut.",
        "Sak 4/26: Zyxo la fram tallene.",
        "I går sa kontaktlæreren at Zyxo trives.",
    ],
)
def test_one_unlisted_word_followed_by_a_verb_is_a_name(text: str) -> None:
    assert names_in(text) == ["Zyxo"]


@pytest.mark.parametrize(
    "text",
    [
        "Saken har vært behandlet før.",  # definite noun
        "Møtet var kort.",
        "Avløser var på plass.",  # agent noun
        "Nabovarsel er sendt.",  # long compound
        "Ansatte kan søke om permisjon.",  # ordinary word
        "Det har kommet en klage.",  # function word
        "Datatilsynet og Bufdir har laget en veileder.",  # listed after an organisation
        "Vi tror Frisklivskurs er nyttig.",  # longer than a single name tends to be
    ],
)
def test_ordinary_words_before_a_verb_are_not_names(text: str) -> None:
    assert names_in(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Zyxo sin sønn kommer i helgen.",
        "Zyxo (12 år) har flyttet.",
        "Vi besøkte i dag Zyxo (78) hjemme.",
        "Zyxo, f. 2011, begynner i 8A.",
        "Bekymringsmelding om Zyxo, 9 år, fra skolen.",
    ],
)
def test_one_unlisted_word_with_a_possessive_or_an_age_is_a_name(text: str) -> None:
    assert names_in(text) == ["Zyxo"]


def test_a_number_in_brackets_after_a_heading_word_is_no_age() -> None:
    assert names_in("Vedlegg (3) følger saken.") == []
    assert names_in("Tiltaksplan, f. eks. for skolen.") == []


def test_verbs_of_contact_and_greetings_are_context() -> None:
    assert names_in("Vi ringte Zyxo i formiddag.") == ["Zyxo"]
    assert names_in("Ringde Zyxo i dag, ho var ikkje heime.") == ["Zyxo"]
    assert names_in("Mvh\nZyxo Quarnth\nFagleder") == ["Zyxo Quarnth"]
    assert names_in("Vi ringte Husbanken i formiddag.") == []
    assert names_in("Vi besøkte Stovner i formiddag.") == []


def test_a_label_with_a_colon_before_a_list_of_people() -> None:
    assert names_in("Til stades: Zyxo, Brilo og Quarn.") == ["Zyxo", "Brilo", "Quarn"]
    assert names_in("Til: Asker kommune, plan og bygg") == []


def test_a_hyphenated_word_with_a_lowercase_part_is_no_name() -> None:
    assert names_in("Spør IT-brukerstøtte om hjelp.") == []
    assert names_in("Spør Zyxo-Lill Quarnth om hjelp.") == ["Zyxo-Lill Quarnth"]


def test_sa_after_a_name_is_a_verb_and_SA_in_capitals_a_company_form() -> None:
    assert names_in("Zyxo Quarnth sa at han ville flytte.") == ["Zyxo Quarnth"]
    assert names_in("Avtalen med Zyxo Quarnth SA er sagt opp.") == []


def test_a_list_ending_in_a_name_makes_the_words_before_it_names() -> None:
    assert names_in("Zyxo, Brilo og Quarn skal lage plakat.") == ["Zyxo", "Brilo", "Quarn"]
    assert names_in("Stavanger, Vedtak, Quarn og Kari Nordmann møttes.") == [
        "Quarn",
        "Kari Nordmann",
    ]


def test_a_short_name_ending_in_er_is_a_name_but_a_long_agent_noun_is_not() -> None:
    assert names_in("Zyper har ringt tre ganger.") == ["Zyper"]
    assert names_in("Tilsynsfører har ringt tre ganger.") == []


def test_a_compound_ending_in_a_role_word_is_context() -> None:
    assert names_in("Spesialpedagog Zyxo Quarnth skrev rapporten.") == ["Zyxo Quarnth"]
    assert names_in("Vi snakket med avdelingsleder Zyxo i går.") == ["Zyxo"]
    assert names_in("Spesialpedagogen skrev rapporten.") == []


def test_one_unlisted_word_after_a_preposition_must_look_like_a_name() -> None:
    assert names_in("Brevet ble sendt til Zyxo i går, og hun svarte.") == ["Zyxo"]
    assert names_in("Vi har avtale med Zyxo om levering av nettbrett.") == []  # no person after
    assert names_in("Veien til Solstrand stenges i natt.") == []  # a place by its ending
    assert names_in("Skulebussen frå Nesbygda går ikkje.") == []
    assert names_in("Velkommen til Åpen dag på skolen!") == []  # ends like an adjective
    assert names_in("Saksbehandler Solstrand har saken.") == ["Solstrand"]  # a role is enough


def test_a_verb_and_a_pronoun_outweigh_an_ending_in_er() -> None:
    assert names_in("Zyxper sier at han er redd.") == ["Zyxper"]
    assert names_in("Zyxper sier at det er greit.") == []


def test_a_long_definite_noun_before_a_name_is_dropped() -> None:
    assert names_in("Tvillingene Zyxo og Quarn begynner mandag.") == ["Zyxo", "Quarn"]
    assert names_in("Ungdomsklubben Bakgarden skipar til disko.") == []


def test_a_verb_by_its_form_after_one_word() -> None:
    assert names_in("Zyxo nektet å ta medisinene.") == ["Zyxo"]
    assert names_in("Zyxo klager over hodepine.") == ["Zyxo"]
    assert names_in("Aktuelle saker vises her.") == []  # adjective in -e
    assert names_in("Lunsj spiste hun ikke.") == []  # the subject follows the verb
    assert names_in("Fotball trener de på tirsdager.") == []


def test_titles_and_e_mail_headers_are_not_names() -> None:
    assert names_in("Møtet ble ledet av Ordfører.") == []
    assert names_in("Rådmann har ansvar for budsjettet.") == []
    assert names_in("Fra: Postmottak\nTil: Oppvekst") == []
    assert names_in("Fra: Zyxo Quarnth\nTil: Oppvekst") == ["Zyxo Quarnth"]


def test_places_in_a_list_are_not_names() -> None:
    assert names_in("Hønefoss, Jessheim og Ski har fått ladestasjoner.") == []


def test_the_held_out_sets_hold_no_listed_name() -> None:
    """The unseen, fresh, final, check and verify sets measure names that are not listed: keep it
    so (never add one of their names to content/names.yaml)."""
    listed = lexicon().first_names | lexicon().ambiguous_first_names | lexicon().surnames
    data = NAMES_YAML.parents[1] / "tests" / "data"
    for name in (
        "privacy_snippets_unseen.yaml",
        "privacy_snippets_fresh.yaml",
        "privacy_snippets_final.yaml",
        "privacy_snippets_check.yaml",
        "privacy_snippets_verify.yaml",
    ):
        snippets = yaml.safe_load((data / name).read_text(encoding="utf-8"))["snippets"]
        for snippet in snippets:
            for person in snippet["names"]:
                assert person in snippet["text"]
                words = {w.casefold() for w in re.split(r"[\s\-'’]+", person)}
                assert not words & listed, f"{person} in {name} is listed in names.yaml"


# -- organisations acting, events, products, and a pronoun that confirms one word --


@pytest.mark.parametrize(
    "text",
    [
        "Solvang Kraft lanserer ny app for strømmåling.",
        "Vindelkraft varsler vedlikehold på nettet i helgen.",
        "Fjordnett oppgraderer fiberen i hele Nordbygda.",
    ],
)
def test_a_company_followed_by_what_companies_do_is_not_a_name(text: str) -> None:
    assert names_in(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tesfalem varsler at hun blir borte i morgen.", ["Tesfalem"]),
        ("Solvang Kraft lanserer ny app, sier han.", ["Solvang Kraft"]),
        ("Kari varsler at hun er syk.", ["Kari"]),  # listed
        ("Kolbjørn har vært sykmeldt siden mars.", ["Kolbjørn"]),  # other verbs still count
    ],
)
def test_a_verb_of_companies_with_a_person_talked_about_is_still_a_name(
    text: str, expected: list[str]
) -> None:
    assert names_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Billettene til Havgapet Festival er lagt ut.",
        "Påmelding til Kystlys Konferanse stenger fredag.",
        "Bydelen inviterer til Vinterlys Dagene.",
        "Vi stiller med lag i Tindeløft Cup.",
        "Kulturskolen spiller på Matfestivalen i Sjøbyen.",
    ],
)
def test_events_are_not_names(text: str) -> None:
    assert names_in(text) == []


def test_a_name_next_to_an_event_word_is_still_found() -> None:
    assert names_in("Torgeir Skjelbred åpner festivalen.") == ["Torgeir Skjelbred"]
    assert names_in("Festivalen ble åpnet av Kari Hansen.") == ["Kari Hansen"]


@pytest.mark.parametrize(
    "text",
    [
        "Skolen har kjøpt lisenser til Padlet og Book Creator.",
        "Lærerne bruker appen Showbie i alle fag.",
        "Leverandøren Tietorama har sendt ny avtale.",
        "Vi har fått tilgang til Lydsterk, Minskriv og Klasseflyt.",
        "Nettbrettene har Malware-vern og Note Builder.",
    ],
)
def test_products_and_suppliers_named_after_a_cue_are_not_names(text: str) -> None:
    assert names_in(text) == []


def test_a_listed_name_after_a_product_cue_is_still_found() -> None:
    assert names_in("Vi har sendt appen til Kari Hansen.") == ["Kari Hansen"]
    # without the cue, an unlisted name listed like that is found as before
    assert names_in("Vi har snakket med Padlet Vinjegrend og Book Skarholt.") != []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nattevakten fant Sigvor ved døra. Hun var forvirret.", ["Sigvor"]),
        ("Jeg har lovet Gunnvor at noen ringer henne i dag.", ["Gunnvor"]),
        ("Vi besøkte Ilkka i går, og han ville ha kaffe.", ["Ilkka"]),
    ],
)
def test_one_word_mid_sentence_is_a_name_when_a_personal_pronoun_follows(
    text: str, expected: list[str]
) -> None:
    assert names_in(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Nattevakten fant Sigvor ved døra.",  # no pronoun: nothing says person
        "Sigvor. Hun kom.",  # at the start of a sentence: the shape rules decide
        "Lærerne installerte appen Showbie, og hun var fornøyd.",  # after a product cue
        "Vi kjørte til Trollvika, og han ventet der.",  # a place by its ending
        "Vi fant Saken i arkivet, og hun tok den.",  # a definite noun
    ],
)
def test_a_later_pronoun_does_not_make_every_word_a_name(text: str) -> None:
    assert names_in(text) == []


# -- the parser --


def _with(**changes: object) -> dict[str, object]:
    return {**_raw(), **changes}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (["Kari"], "names: the file must hold sections"),
        (_with(nicknames=["Kaja"]), "names: unknown section 'nicknames'"),
        (_with(first_names=None), "names: section 'first_names' is missing or empty"),
        (_with(surnames="Hansen"), "names surnames: must be a list of words, not str"),
        (_with(first_names=["Kari", 7]), "names first_names[1]: must be a word"),
        (_with(first_names=["Kari", " "]), "names first_names[1]: is empty"),
        (_with(first_names=["Kari", "kari"]), "names first_names: 'kari' is listed twice"),
        (_with(places=["Nye Veier"]), "names places[0]: 'Nye Veier' must be one word"),
        (
            _with(first_names=["Kari", "Per"], ambiguous_first_names=["Per"]),
            "names ambiguous_first_names: already in first_names",
        ),
    ],
)
def test_parser_explains_mistakes(raw: object, message: str) -> None:
    with pytest.raises(NameLexiconError) as error:
        parse_name_lexicon(raw)
    assert str(error.value).startswith(message)


def test_content_file_parses_and_lookups_ignore_case() -> None:
    lex = lexicon()
    assert "kari" in lex.first_names
    assert "nordmann" in lex.surnames
    assert "saksbehandler" in lex.context_words
    assert "nye veier" in lex.stop_phrases


# -- property: a listed first name after a context word is always found --

_LEX = lexicon()
_NOT_NAMES = _LEX.stop_words | _LEX.places | _LEX.context_words | _LEX.particles
_FIRST_NAMES = sorted(n for n in _LEX.first_names if n not in _NOT_NAMES)
_CONTEXT = sorted(_LEX.context_words)


@given(
    context=st.sampled_from(_CONTEXT),
    name=st.sampled_from(_FIRST_NAMES),
    capital_context=st.booleans(),
)
def test_a_listed_first_name_after_a_context_word_is_always_found(
    context: str, name: str, capital_context: bool
) -> None:
    shown = name[0].upper() + name[1:]
    lead = context.capitalize() if capital_context else f"Notat: {context}"
    text = f"{lead} {shown} har fått svar."
    spans = find_names(text, _LEX)
    assert [s.text for s in spans] == [shown]
    assert text[spans[0].start : spans[0].end] == shown


# -- property: any text gives ordered spans that are exactly the text they point at --

_PIECES = [
    "Zyxo", "Quarnth", "Kacper", "Tvillingene", "Saken", "Kari", "Nordmann", "til", "med",
    "og", "sier", "har", "at", "han", "hun", "Oslo", "kommune", "Røde", "Kors", "sin",
    "(12 år)", ",", ".", ":", "\n", "Til", "stede", "f. 2011", "Mvh", "Om", "Av",
]  # fmt: skip


@given(st.lists(st.sampled_from(_PIECES), max_size=30))
def test_spans_are_ordered_exact_and_do_not_overlap(pieces: list[str]) -> None:
    text = " ".join(pieces)
    spans = find_names(text, _LEX)
    assert all(text[s.start : s.end] == s.text for s in spans)
    assert all(a.end <= b.start for a, b in pairwise(spans))
