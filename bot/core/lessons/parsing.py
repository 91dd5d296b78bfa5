"""`parse_lessons`: check one language's parsed lessons.yaml and build its `LessonBook`.

Every problem is one `LessonError` whose message names the file, the lesson or tip, and the field.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from bot.core.lessons.model import (
    LESSON_IDS,
    OPTION_IDS,
    Lesson,
    LessonArea,
    LessonBook,
    LessonError,
    Option,
    Tip,
)
from bot.core.lessons.sentences import count_sentences

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

_TIP_ID = re.compile(r"^[a-z0-9_-]+$")


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
