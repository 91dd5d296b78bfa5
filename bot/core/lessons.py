"""Vettreglene as micro-lessons: the content model and its validator.

Each language has `content/<lang>/lessons.yaml` with ten lessons (one per AI-vettregel, ids 1..10
in order) and a pool of weekly tips that champions pick from. The caller parses the YAML; this
module only checks the parsed data and turns it into frozen dataclasses. It is pure (no I/O) and
every problem is one `LessonError` whose message names the file, the lesson or tip, and the field.

Sentence counting (used for `why`, feedback and tips): a sentence ends at a word that ends with
".", "!", "?" or "…" (closing quotes or brackets after it are ignored), unless

* the word is a known abbreviation ("f.eks.", "bl.a.", "dvs.", "e.g.", "kl." …; see
  `ABBREVIATIONS`) or a run of single letters with dots ("t.o.m.", "m.a."), or
* the next word starts with a lower-case letter ("7. trinn", "ca. ti", an abbreviation we do not
  know).

Text after the last sentence end that does not end with punctuation counts as one more sentence.
The rule is deliberately lenient: it errs towards counting fewer sentences, never more.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

LESSON_IDS: tuple[int, ...] = tuple(range(1, 11))
"""One lesson per AI-vettregel, in this order."""

OPTION_IDS: tuple[str, ...] = ("a", "b", "c")
"""Every check question has exactly these options, in this order."""

MIN_TIPS = 20

WHY_SENTENCES = (2, 4)
FEEDBACK_SENTENCES = (1, 2)
TIP_SENTENCES = (1, 2)

WHY_MAX = 600
EXAMPLE_MAX = 500
QUESTION_MAX = 200
OPTION_MAX = 200
FEEDBACK_MAX = 300
TIP_MAX = 280

ABBREVIATIONS = frozenset(
    {
        # Norwegian (bokmål and nynorsk)
        "f.eks.",
        "bl.a.",
        "dvs.",
        "osv.",
        "mv.",
        "m.m.",
        "mfl.",
        "m.fl.",
        "ca.",
        "jf.",
        "jfr.",
        "nr.",
        "pkt.",
        "kap.",
        "art.",
        "evt.",
        "ev.",
        "e.l.",
        "o.l.",
        "t.d.",
        "m.a.",
        "kl.",
        "tlf.",
        "inkl.",
        "ekskl.",
        "iflg.",
        "pga.",
        "mht.",
        "vedr.",
        # English
        "e.g.",
        "i.e.",
        "etc.",
        "vs.",
        "no.",
        "approx.",
    }
)

_LETTER_DOTS = re.compile(r"^(?:[^\W\d_]\.){2,}$")
_TRAILING_CLOSERS = "\"'»”’)]"
_LEADING_OPENERS = "\"'«“‘(["
_SENTENCE_END = (".", "!", "?", "…")
_TIP_ID = re.compile(r"^[a-z0-9_-]+$")

_Language = TypeVar("_Language", bound=str)  # lets callers pass Mapping[Literal["nb", …], …]


class LessonArea(StrEnum):
    SCHOOL = "school"
    HEALTH_CARE = "health_care"
    TECHNICAL = "technical"
    ADMINISTRATION = "administration"


class LessonError(ValueError):
    """A lessons file is malformed or differs between languages; the message says what to fix."""


@dataclass(frozen=True)
class Option:
    id: str
    text: str
    correct: bool
    feedback: str


@dataclass(frozen=True)
class Lesson:
    id: int
    why: str
    area: LessonArea
    example: str
    question: str
    options: tuple[Option, ...]
    source: str

    def option(self, option_id: str) -> Option:
        for option in self.options:
            if option.id == option_id:
                return option
        raise KeyError(option_id)

    @property
    def correct_option(self) -> Option:
        for option in self.options:
            if option.correct:
                return option
        raise LessonError(f"lesson {self.id}: no option is marked correct")


@dataclass(frozen=True)
class Tip:
    id: str
    text: str


@dataclass(frozen=True)
class LessonBook:
    language: str
    lessons: tuple[Lesson, ...]
    tips: tuple[Tip, ...]

    def lesson(self, lesson_id: int) -> Lesson:
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        raise KeyError(lesson_id)

    def tip(self, tip_id: str) -> Tip:
        for tip in self.tips:
            if tip.id == tip_id:
                return tip
        raise KeyError(tip_id)


# --- sentence counting ---------------------------------------------------------------------------


def _ends_sentence(word: str, next_word: str | None) -> bool:
    core = word.rstrip(_TRAILING_CLOSERS)
    if not core.endswith(_SENTENCE_END):
        return False
    if core.endswith("."):
        bare = core.lstrip(_LEADING_OPENERS).lower()
        if bare in ABBREVIATIONS or _LETTER_DOTS.match(bare):
            return False
    if next_word is not None:
        first = next_word.lstrip(_LEADING_OPENERS)[:1]
        if first.islower():
            return False
    return True


def count_sentences(text: str) -> int:
    """How many sentences `text` has, by the lenient rule in the module docstring."""
    words = text.split()
    count = 0
    open_sentence = False
    for index, word in enumerate(words):
        following = words[index + 1] if index + 1 < len(words) else None
        if _ends_sentence(word, following):
            count += 1
            open_sentence = False
        else:
            open_sentence = True
    return count + (1 if open_sentence else 0)


# --- parsing -------------------------------------------------------------------------------------


def _describe(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def _mapping(value: object, where: str, keys: Collection[str]) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise LessonError(
            f"{where}: must be a mapping with {', '.join(keys)}; found {_describe(value)}"
        )
    unknown = sorted(str(key) for key in value if key not in keys)
    if unknown:
        raise LessonError(f"{where}: unknown field '{unknown[0]}' (allowed: {', '.join(keys)})")
    missing = [key for key in keys if key not in value]
    if missing:
        raise LessonError(f"{where}: missing field '{missing[0]}'")
    return {str(key): item for key, item in value.items()}


def _list(value: object, where: str) -> Sequence[object]:
    if not isinstance(value, list):
        raise LessonError(f"{where}: must be a list; found {_describe(value)}")
    return value


def _text(
    value: object,
    where: str,
    *,
    limit: int,
    sentences: tuple[int, int] | None = None,
) -> str:
    if not isinstance(value, str):
        raise LessonError(f"{where}: must be text; found {_describe(value)}")
    text = " ".join(value.split())
    if not text:
        raise LessonError(f"{where}: is empty")
    if len(text) > limit:
        raise LessonError(
            f"{where}: is {len(text)} characters; keep it to at most {limit} so the card stays "
            "readable"
        )
    if sentences is not None:
        low, high = sentences
        found = count_sentences(text)
        if not low <= found <= high:
            raise LessonError(f"{where}: has {found} sentences; write {low} to {high}")
    return text


def _lesson_id(entry: object, index: int, file: str) -> int:
    if not isinstance(entry, Mapping) or "id" not in entry:
        raise LessonError(f"{file}: lesson number {index + 1} in the list has no 'id'")
    value = entry["id"]
    if isinstance(value, bool) or not isinstance(value, int):
        raise LessonError(
            f"{file}: lesson number {index + 1} in the list: 'id' must be a whole number from "
            f"{LESSON_IDS[0]} to {LESSON_IDS[-1]}; found {value!r}"
        )
    return value


def _check_lesson_ids(ids: Sequence[int], file: str) -> None:
    expected = list(LESSON_IDS)
    if list(ids) == expected:
        return
    seen: set[int] = set()
    for lesson_id in ids:
        if lesson_id in seen:
            raise LessonError(f"{file}: lesson {lesson_id} appears more than once")
        seen.add(lesson_id)
    for lesson_id in ids:
        if lesson_id not in LESSON_IDS:
            raise LessonError(
                f"{file}: lesson {lesson_id} is not a vettregel; lessons are numbered "
                f"{LESSON_IDS[0]} to {LESSON_IDS[-1]}"
            )
    for lesson_id in expected:
        if lesson_id not in seen:
            raise LessonError(f"{file}: lesson {lesson_id} is missing")
    raise LessonError(
        f"{file}: lessons must be in order {LESSON_IDS[0]} to {LESSON_IDS[-1]}; found "
        f"{', '.join(str(lesson_id) for lesson_id in ids)}"
    )


def _parse_option(raw: object, where: str) -> Option:
    if isinstance(raw, Mapping) and "correct" not in raw:
        raw = {**raw, "correct": False}  # only the right answer needs to say so
    fields = _mapping(raw, where, ("id", "text", "correct", "feedback"))
    correct = fields["correct"]
    if not isinstance(correct, bool):
        raise LessonError(f"{where}: 'correct' must be true or false; found {correct!r}")
    return Option(
        id=str(fields["id"]),
        text=_text(fields["text"], f"{where} text", limit=OPTION_MAX),
        correct=correct,
        feedback=_text(
            fields["feedback"],
            f"{where} feedback",
            limit=FEEDBACK_MAX,
            sentences=FEEDBACK_SENTENCES,
        ),
    )


def _parse_options(raw: object, where: str) -> tuple[Option, ...]:
    entries = _list(raw, f"{where} options")
    if len(entries) != len(OPTION_IDS):
        raise LessonError(
            f"{where}: must have exactly {len(OPTION_IDS)} options ({', '.join(OPTION_IDS)}); "
            f"found {len(entries)}"
        )
    ids = [entry.get("id") if isinstance(entry, Mapping) else None for entry in entries]
    if ids != list(OPTION_IDS):
        shown = ", ".join("?" if option_id is None else str(option_id) for option_id in ids)
        raise LessonError(
            f"{where}: options must have ids {', '.join(OPTION_IDS)} in that order; found {shown}"
        )
    options = tuple(
        _parse_option(entry, f"{where} option {option_id}")
        for entry, option_id in zip(entries, OPTION_IDS, strict=True)
    )
    correct = [option.id for option in options if option.correct]
    if len(correct) != 1:
        marked = f" ({', '.join(correct)})" if correct else ""
        raise LessonError(
            f"{where}: exactly one option must be correct; {len(correct)} are marked correct"
            f"{marked}"
        )
    return options


def _parse_lesson(raw: object, lesson_id: int, file: str, source_ids: Collection[str]) -> Lesson:
    where = f"{file}: lesson {lesson_id}"
    fields = _mapping(raw, where, ("id", "why", "example", "question", "options", "source"))
    example = _mapping(fields["example"], f"{where} example", ("area", "text"))
    area_value = example["area"]
    allowed = tuple(area.value for area in LessonArea)
    if not isinstance(area_value, str) or area_value not in allowed:
        raise LessonError(
            f"{where} example: area {area_value!r} is unknown (allowed: {', '.join(allowed)})"
        )
    area = LessonArea(area_value)
    source = fields["source"]
    if not isinstance(source, str) or source not in source_ids:
        known = ", ".join(sorted(source_ids))
        raise LessonError(
            f"{where}: source {source!r} is not a source id in policy.yaml (known: {known})"
        )
    return Lesson(
        id=lesson_id,
        why=_text(fields["why"], f"{where} why", limit=WHY_MAX, sentences=WHY_SENTENCES),
        area=area,
        example=_text(example["text"], f"{where} example text", limit=EXAMPLE_MAX),
        question=_text(fields["question"], f"{where} question", limit=QUESTION_MAX),
        options=_parse_options(fields["options"], where),
        source=source,
    )


def _parse_tips(raw: object, file: str) -> tuple[Tip, ...]:
    entries = _list(raw, f"{file}: tips")
    tips: list[Tip] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        fields = _mapping(entry, f"{file}: tip number {index + 1} in the list", ("id", "text"))
        tip_id = fields["id"]
        if not isinstance(tip_id, str) or not _TIP_ID.match(tip_id):
            raise LessonError(
                f"{file}: tip number {index + 1} in the list: id must be lower-case letters, "
                f"digits, '-' or '_'; found {tip_id!r}"
            )
        if tip_id in seen:
            raise LessonError(f"{file}: tip '{tip_id}' appears more than once; ids must be unique")
        seen.add(tip_id)
        text = _text(
            fields["text"], f"{file}: tip '{tip_id}'", limit=TIP_MAX, sentences=TIP_SENTENCES
        )
        tips.append(Tip(id=tip_id, text=text))
    if len(tips) < MIN_TIPS:
        raise LessonError(f"{file}: has {len(tips)} tips; champions need at least {MIN_TIPS}")
    return tuple(tips)


def parse_lessons(raw: object, *, language: str, source_ids: Collection[str]) -> LessonBook:
    """Validate one language's parsed lessons.yaml and build its LessonBook."""
    file = f"{language}/lessons.yaml"
    top = _mapping(raw, file, ("lessons", "tips"))
    entries = _list(top["lessons"], f"{file}: lessons")
    ids = [_lesson_id(entry, index, file) for index, entry in enumerate(entries)]
    _check_lesson_ids(ids, file)
    lessons = tuple(
        _parse_lesson(entry, lesson_id, file, source_ids)
        for entry, lesson_id in zip(entries, ids, strict=True)
    )
    return LessonBook(language=language, lessons=lessons, tips=_parse_tips(top["tips"], file))


# --- consistency across languages ----------------------------------------------------------------


def check_same_shape(books: Mapping[_Language, LessonBook]) -> None:
    """Every language must have the same lessons, options, answers, areas, sources and tips.

    The first language ("nb" when present) is the reference; only the texts may differ.
    """
    if not books:
        return
    reference_language = next(
        (language for language in books if language == "nb"), next(iter(books))
    )
    reference = books[reference_language]
    ref_file = f"{reference_language}/lessons.yaml"
    for language, book in books.items():
        file = f"{language}/lessons.yaml"
        if book.language != language:
            raise LessonError(f"{file}: holds language '{book.language}', expected '{language}'")
        if language == reference_language:
            continue
        ref_ids = [lesson.id for lesson in reference.lessons]
        ids = [lesson.id for lesson in book.lessons]
        if ids != ref_ids:
            raise LessonError(f"{file}: lessons {ids} differ from {ref_ids} in {ref_file}")
        for ref_lesson, lesson in zip(reference.lessons, book.lessons, strict=True):
            where = f"{file}: lesson {lesson.id}"
            if lesson.area != ref_lesson.area:
                raise LessonError(
                    f"{where}: example area is '{lesson.area}', but '{ref_lesson.area}' in "
                    f"{ref_file}"
                )
            if lesson.source != ref_lesson.source:
                raise LessonError(
                    f"{where}: source is '{lesson.source}', but '{ref_lesson.source}' in {ref_file}"
                )
            option_ids = [option.id for option in lesson.options]
            ref_option_ids = [option.id for option in ref_lesson.options]
            if option_ids != ref_option_ids:
                raise LessonError(
                    f"{where}: options {option_ids} differ from {ref_option_ids} in {ref_file}"
                )
            for ref_option, option in zip(ref_lesson.options, lesson.options, strict=True):
                if option.correct != ref_option.correct:
                    raise LessonError(
                        f"{where} option {option.id}: correct is "
                        f"{str(option.correct).lower()}, but "
                        f"{str(ref_option.correct).lower()} in {ref_file}"
                    )
        ref_tips = [tip.id for tip in reference.tips]
        tips = [tip.id for tip in book.tips]
        if tips != ref_tips:
            missing = [tip_id for tip_id in ref_tips if tip_id not in tips]
            extra = [tip_id for tip_id in tips if tip_id not in ref_tips]
            if missing:
                detail = f"missing tips {', '.join(missing)}"
            elif extra:
                detail = f"tips not in {ref_file}: {', '.join(extra)}"
            else:
                detail = f"tips must be in the same order as in {ref_file}"
            raise LessonError(f"{file}: {detail}")
