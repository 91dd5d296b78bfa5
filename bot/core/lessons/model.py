"""The lessons as frozen dataclasses: a book of ten lessons and a pool of tips per language."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

LESSON_IDS: tuple[int, ...] = tuple(range(1, 11))
"""One lesson per AI-vettregel, in this order."""

OPTION_IDS: tuple[str, ...] = ("a", "b", "c")
"""Every check question has exactly these options, in this order."""


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


def next_unfinished(book: LessonBook, completed: frozenset[int]) -> int | None:
    """The id of the first lesson of `book` (in book order) not in `completed`, or None."""
    for lesson in book.lessons:
        if lesson.id not in completed:
            return lesson.id
    return None
