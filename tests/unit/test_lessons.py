"""Vettreglene as lessons: the shipped content is valid and consistent, and the validator explains
every kind of mistake an editor can make in a lessons file."""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.core.lessons import (
    LESSON_IDS,
    MIN_TIPS,
    TIP_MAX,
    WHY_MAX,
    LessonArea,
    LessonBook,
    LessonError,
    check_same_shape,
    count_sentences,
    next_unfinished,
    parse_lessons,
)
from bot.core.lessons.sentences import ABBREVIATIONS

CONTENT = Path(__file__).resolve().parents[2] / "content"
LANGUAGES = ("nb", "nn", "en")


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


SOURCE_IDS = frozenset(source["id"] for source in _load(CONTENT / "policy.yaml")["sources"])
RAW = {language: _load(CONTENT / language / "lessons.yaml") for language in LANGUAGES}


def _book(language: str) -> LessonBook:
    return parse_lessons(RAW[language], language=language, source_ids=SOURCE_IDS)


BOOKS = {language: _book(language) for language in LANGUAGES}


# --- the shipped content -------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_parses_into_ten_lessons_in_order(language: str) -> None:
    book = BOOKS[language]
    assert book.language == language
    assert tuple(lesson.id for lesson in book.lessons) == LESSON_IDS


def test_all_languages_have_the_same_shape() -> None:
    check_same_shape(BOOKS)


def test_the_correct_letter_varies_between_lessons() -> None:
    letters = [lesson.correct_option.id for lesson in BOOKS["nb"].lessons]
    counts = Counter(letters)
    assert set(counts) == {"a", "b", "c"}, letters
    assert max(counts.values()) <= len(letters) // 2, letters
    assert all(first != second for first, second in itertools.pairwise(letters))


def test_examples_are_spread_across_the_service_areas() -> None:
    areas = Counter(lesson.area for lesson in BOOKS["nb"].lessons)
    assert set(areas) == set(LessonArea)
    assert min(areas.values()) >= 2, areas


@pytest.mark.parametrize("language", LANGUAGES)
def test_there_are_enough_tips_for_champions(language: str) -> None:
    assert len(BOOKS[language].tips) >= MIN_TIPS
    assert len(BOOKS[language].tips) >= 22


@pytest.mark.parametrize("other", ["nn", "en"])
def test_other_languages_are_translations_not_copies(other: str) -> None:
    for nb_lesson, lesson in zip(BOOKS["nb"].lessons, BOOKS[other].lessons, strict=True):
        assert lesson.why != nb_lesson.why, f"{other} lesson {lesson.id}: why is copied from nb"
        assert lesson.example != nb_lesson.example
        assert lesson.question != nb_lesson.question
    same_tips = [
        tip.id
        for nb_tip, tip in zip(BOOKS["nb"].tips, BOOKS[other].tips, strict=True)
        if tip.text == nb_tip.text
    ]
    assert same_tips == []


def test_nynorsk_uses_nynorsk_forms() -> None:
    book = BOOKS["nn"]
    parts = [tip.text for tip in book.tips]
    for lesson in book.lessons:
        parts += [lesson.why, lesson.example, lesson.question]
        parts += [text for option in lesson.options for text in (option.text, option.feedback)]
    words = {word.strip(".,:;?!«»").lower() for word in " ".join(parts).split()}
    assert {"ikkje", "kva", "korleis", "personopplysningar", "teieplikt"} <= words
    assert not {"ikke", "hva", "hvordan", "personopplysninger", "taushetsplikt"} & words


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_lesson_has_a_vettregel_title(language: str) -> None:
    titles = _load(CONTENT / language / "texts.yaml")["vettregel"]
    for lesson in BOOKS[language].lessons:
        assert titles[str(lesson.id)]["title"]


def test_lookups_by_id() -> None:
    book = BOOKS["nb"]
    lesson = book.lesson(7)
    assert lesson.id == 7
    assert lesson.option(lesson.correct_option.id).correct
    assert book.tip("tip01").id == "tip01"
    with pytest.raises(KeyError):
        book.lesson(11)
    with pytest.raises(KeyError):
        lesson.option("d")
    with pytest.raises(KeyError):
        book.tip("nope")


def test_next_unfinished_is_the_first_lesson_in_book_order_not_completed() -> None:
    book = BOOKS["nb"]
    assert next_unfinished(book, frozenset()) == 1
    assert next_unfinished(book, frozenset({1, 2, 4})) == 3
    assert next_unfinished(book, frozenset({3, 1, 2, 99})) == 4
    assert next_unfinished(book, frozenset(LESSON_IDS)) is None
    reordered = dataclasses.replace(book, lessons=tuple(reversed(book.lessons)))
    assert next_unfinished(reordered, frozenset({10})) == 9


# --- a small, valid book to break in one place at a time -----------------------------------------


def _lesson(lesson_id: int) -> dict[str, Any]:
    return {
        "id": lesson_id,
        "why": f"Regel {lesson_id} er viktig. Den beskytter innbyggerne.",
        "example": {"area": "school", "text": "En lærer vil bruke KI."},
        "question": "Hva gjør hun?",
        "options": [
            {"id": "a", "text": "Spør først.", "correct": True, "feedback": "Riktig valg."},
            {"id": "b", "text": "Gjetter.", "correct": False, "feedback": "Ikke lurt."},
            {"id": "c", "text": "Venter.", "feedback": "Heller ikke lurt."},
        ],
        "source": "vettregler",
    }


def _minimal() -> dict[str, Any]:
    return {
        "lessons": [_lesson(lesson_id) for lesson_id in LESSON_IDS],
        "tips": [{"id": f"tip{n:02d}", "text": f"Tips nummer {n}."} for n in range(1, 21)],
    }


def _parse(raw: object, language: str = "nb") -> LessonBook:
    return parse_lessons(raw, language=language, source_ids=SOURCE_IDS)


def test_the_minimal_book_is_valid() -> None:
    book = _parse(_minimal())
    assert book.lesson(3).correct_option.id == "a"
    assert book.lesson(3).option("c").correct is False  # `correct` may be left out when false


Mutation = Callable[[dict[str, Any]], object]


def _set(path: tuple[Any, ...], value: object) -> Mutation:
    def mutate(raw: dict[str, Any]) -> None:
        node: Any = raw
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


def _drop_option(raw: dict[str, Any]) -> None:
    raw["lessons"][3]["options"].pop()


def _extra_option(raw: dict[str, Any]) -> None:
    raw["lessons"][3]["options"].append(
        {"id": "d", "text": "Noe annet.", "correct": False, "feedback": "Nei."}
    )


def _drop_lesson_7(raw: dict[str, Any]) -> None:
    del raw["lessons"][6]


def _duplicate_lesson(raw: dict[str, Any]) -> None:
    raw["lessons"][6] = _lesson(6)


def _swap_lessons(raw: dict[str, Any]) -> None:
    raw["lessons"][1], raw["lessons"][2] = raw["lessons"][2], raw["lessons"][1]


def _extra_lesson(raw: dict[str, Any]) -> None:
    raw["lessons"].append(_lesson(11))


def _duplicate_tip(raw: dict[str, Any]) -> None:
    raw["tips"][5]["id"] = "tip02"


def _few_tips(raw: dict[str, Any]) -> None:
    del raw["tips"][MIN_TIPS - 1 :]


def _swap_option_ids(raw: dict[str, Any]) -> None:
    options = raw["lessons"][4]["options"]
    options[0]["id"], options[1]["id"] = "b", "a"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            _drop_option,
            r"^nb/lessons\.yaml: lesson 4: must have exactly 3 options \(a, b, c\); found 2$",
            id="too-few-options",
        ),
        pytest.param(
            _extra_option, r"lesson 4: must have exactly 3 options .*found 4", id="too-many-options"
        ),
        pytest.param(
            _set(("lessons", 1, "options", 1, "correct"), True),
            r"^nb/lessons\.yaml: lesson 2: exactly one option must be correct; "
            r"2 are marked correct \(a, b\)$",
            id="two-correct",
        ),
        pytest.param(
            _set(("lessons", 1, "options", 0, "correct"), False),
            r"lesson 2: exactly one option must be correct; 0 are marked correct$",
            id="none-correct",
        ),
        pytest.param(
            _set(("lessons", 1, "options", 0, "correct"), "yes"),
            r"lesson 2 option a: 'correct' must be true or false",
            id="correct-not-boolean",
        ),
        pytest.param(
            _set(("lessons", 8, "source"), "wikipedia"),
            r"^nb/lessons\.yaml: lesson 9: source 'wikipedia' is not a source id in policy\.yaml "
            r"\(known: .*vettregler.*\)$",
            id="unknown-source",
        ),
        pytest.param(_drop_lesson_7, r"^nb/lessons\.yaml: lesson 7 is missing$", id="missing-7"),
        pytest.param(_duplicate_lesson, r"lesson 6 appears more than once", id="duplicate-lesson"),
        pytest.param(_swap_lessons, r"lessons must be in order 1 to 10; found 1, 3, 2", id="order"),
        pytest.param(_extra_lesson, r"lesson 11 is not a vettregel", id="lesson-11"),
        pytest.param(
            _set(("lessons", 0, "id"), "1"), r"'id' must be a whole number", id="id-as-text"
        ),
        pytest.param(
            _duplicate_tip,
            r"^nb/lessons\.yaml: tip 'tip02' appears more than once; ids must be unique$",
            id="duplicate-tip",
        ),
        pytest.param(
            _set(("tips", 2, "text"), "Ord. " * 60),
            rf"^nb/lessons\.yaml: tip 'tip03': is 299 characters; keep it to at most {TIP_MAX}",
            id="tip-too-long",
        ),
        pytest.param(
            _set(("tips", 2, "text"), "En. To. Tre."),
            r"tip 'tip03': has 3 sentences; write 1 to 2",
            id="tip-too-many-sentences",
        ),
        pytest.param(
            _few_tips,
            rf"has {MIN_TIPS - 1} tips; champions need at least {MIN_TIPS}",
            id="few-tips",
        ),
        pytest.param(
            _set(("lessons", 0, "why"), "Bare én setning."),
            r"^nb/lessons\.yaml: lesson 1 why: has 1 sentences; write 2 to 4$",
            id="why-one-sentence",
        ),
        pytest.param(
            _set(("lessons", 0, "why"), "En. To. Tre. Fire. Fem."),
            r"lesson 1 why: has 5 sentences",
            id="why-five-sentences",
        ),
        pytest.param(
            _set(("lessons", 0, "why"), "Dette er en lang setning. " * 30),
            rf"lesson 1 why: is \d+ characters; keep it to at most {WHY_MAX}",
            id="why-too-long",
        ),
        pytest.param(
            _set(("lessons", 2, "example", "area"), "kindergarten"),
            r"lesson 3 example: area 'kindergarten' is unknown \(allowed: school, health_care, "
            r"technical, administration\)",
            id="unknown-area",
        ),
        pytest.param(
            _set(("lessons", 2, "question"), "   "),
            r"^nb/lessons\.yaml: lesson 3 question: is empty$",
            id="empty-question",
        ),
        pytest.param(
            _set(("lessons", 2, "options", 2, "feedback"), None),
            r"lesson 3 option c feedback: must be text; found nothing",
            id="missing-feedback-text",
        ),
        pytest.param(
            _swap_option_ids,
            r"lesson 5: options must have ids a, b, c in that order; found b, a, c",
            id="option-ids",
        ),
        pytest.param(
            _set(("lessons", 5, "sorce"), "gdpr"),
            r"lesson 6: unknown field 'sorce'",
            id="typo-in-field-name",
        ),
        pytest.param(
            _set(("lessons", 5, "example"), "En lærer."),
            r"lesson 6 example: must be a mapping with area, text; found str",
            id="example-not-mapping",
        ),
    ],
)
def test_each_mistake_gets_a_clear_one_line_error(mutate: Mutation, message: str) -> None:
    raw = _minimal()
    mutate(raw)
    with pytest.raises(LessonError, match=message) as error:
        _parse(raw)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (None, r"^nn/lessons\.yaml: must be a mapping with lessons, tips; found nothing$"),
        ({"lessons": []}, r"^nn/lessons\.yaml: missing field 'tips'$"),
        (
            {"lessons": {}, "tips": []},
            r"^nn/lessons\.yaml: lessons: must be a list; found a mapping",
        ),
    ],
)
def test_a_broken_file_names_the_file(raw: object, message: str) -> None:
    with pytest.raises(LessonError, match=message):
        _parse(raw, language="nn")


# --- the same shape in every language ------------------------------------------------------------


def _books(mutate_nn: Mutation) -> dict[str, LessonBook]:
    nn = _minimal()
    mutate_nn(nn)
    return {"nb": _parse(_minimal()), "nn": _parse(nn, "nn"), "en": _parse(_minimal(), "en")}


def _move_correct(raw: dict[str, Any]) -> None:
    options = raw["lessons"][4]["options"]
    options[0]["correct"], options[2]["correct"] = False, True


def _rename_tip(raw: dict[str, Any]) -> None:
    raw["tips"][3]["id"] = "tip99"


def _reverse_tips(raw: dict[str, Any]) -> None:
    raw["tips"].reverse()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            _move_correct,
            r"^nn/lessons\.yaml: lesson 5 option a: correct is false, "
            r"but true in nb/lessons\.yaml$",
            id="correct-moved",
        ),
        pytest.param(
            _set(("lessons", 2, "example", "area"), "technical"),
            r"^nn/lessons\.yaml: lesson 3: example area is 'technical', but 'school' in nb",
            id="area",
        ),
        pytest.param(
            _set(("lessons", 8, "source"), "gdpr"),
            r"^nn/lessons\.yaml: lesson 9: source is 'gdpr', but 'vettregler' in nb",
            id="source",
        ),
        pytest.param(_rename_tip, r"^nn/lessons\.yaml: missing tips tip04$", id="tip-renamed"),
        pytest.param(_reverse_tips, r"tips must be in the same order as in nb", id="tip-order"),
    ],
)
def test_differences_between_languages_name_the_language(mutate: Mutation, message: str) -> None:
    with pytest.raises(LessonError, match=message):
        check_same_shape(_books(mutate))


def test_only_texts_may_differ_between_languages() -> None:
    nn = _minimal()
    nn["lessons"][0]["why"] = "Regel 1 er viktig. Han vernar innbyggjarane."
    nn["tips"][0]["text"] = "Tips på nynorsk."
    check_same_shape({"nb": _parse(_minimal()), "nn": _parse(nn, "nn")})


def test_a_book_filed_under_the_wrong_language_is_reported() -> None:
    with pytest.raises(LessonError, match=r"^en/lessons\.yaml: holds language 'nb'"):
        check_same_shape({"nb": _parse(_minimal()), "en": _parse(_minimal())})


# --- counting sentences --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Én setning.", 1),
        ("Én setning. To setninger!", 2),
        ("Er det lov? Spør først.", 2),
        ("Uten punktum på slutten", 1),
        ("Første setning. Og så en uten punktum", 2),
        ("Bruk f.eks. initialer. Eller la være.", 2),
        ("Dette gjelder bl.a. skolen, dvs. lærerne. Ferdig.", 2),
        ("En lærer på 7. trinn spør. Hun får svar.", 2),
        ("Use initials, e.g. A and B. Or nothing at all.", 2),
        ("Han sa «Vent litt.» Så gikk han.", 2),
        ("Møtet er kl. 14 i dag. Kom tidlig.", 2),
        ("", 0),
    ],
)
def test_sentences_are_counted_leniently(text: str, expected: int) -> None:
    assert count_sentences(text) == expected


# A last word that is a known abbreviation ("No.", "Ca.") does not end a sentence by design; the
# lenient rule errs towards fewer sentences, so plain sentences leave those words out.
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå", min_size=1, max_size=8).filter(
    lambda word: f"{word}." not in ABBREVIATIONS
)
_SENTENCE = st.builds(
    lambda first, rest, end: " ".join([first.capitalize(), *rest]) + end,
    _WORD,
    st.lists(_WORD, max_size=6),
    st.sampled_from([".", "!", "?"]),
)


@given(st.lists(_SENTENCE, min_size=1, max_size=6))
def test_plain_sentences_are_counted_exactly(sentences: list[str]) -> None:
    assert count_sentences(" ".join(sentences)) == len(sentences)


_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["lessons", "tips", "id", "text", "why", "options", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@given(_JUNK)
def test_any_malformed_input_is_a_lesson_error(raw: object) -> None:
    with pytest.raises(LessonError):
        _parse(raw)


@given(st.integers(min_value=0, max_value=9), st.sampled_from(["why", "question", "source"]))
def test_breaking_a_real_lesson_is_always_caught(index: int, field: str) -> None:
    raw = copy.deepcopy(RAW["nb"])
    del raw["lessons"][index][field]
    with pytest.raises(LessonError, match=rf"lesson {index + 1}: missing field '{field}'"):
        _parse(raw)
