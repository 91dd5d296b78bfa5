"""`check_same_shape`: every language's lessons must match; only the texts may differ."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from bot.core.lessons.model import LessonBook, LessonError

_Language = TypeVar("_Language", bound=str)  # lets callers pass Mapping[Literal["nb", …], …]


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
