"""Vettreglene as micro-lessons: the content model and its validator.

Each language has `content/<lang>/lessons.yaml` with ten lessons (one per AI-vettregel, ids 1..10
in order) and a pool of weekly tips that champions pick from. The caller parses the YAML; this
package only checks the parsed data and turns it into frozen dataclasses. It is pure (no I/O) and
every problem is one `LessonError` whose message names the file, the lesson or tip, and the field.

Sentence counting (used for `why`, feedback and tips) follows the lenient rule described in
`bot.core.lessons.sentences`.
"""

from __future__ import annotations

from bot.core.lessons.consistency import check_same_shape
from bot.core.lessons.model import (
    LESSON_IDS,
    OPTION_IDS,
    Lesson,
    LessonArea,
    LessonBook,
    LessonError,
    Option,
    Tip,
    next_unfinished,
)
from bot.core.lessons.parsing import (
    EXAMPLE_MAX,
    FEEDBACK_MAX,
    FEEDBACK_SENTENCES,
    MIN_TIPS,
    OPTION_MAX,
    QUESTION_MAX,
    TIP_MAX,
    TIP_SENTENCES,
    WHY_MAX,
    WHY_SENTENCES,
    parse_lessons,
)
from bot.core.lessons.sentences import ABBREVIATIONS, count_sentences

__all__ = [
    "ABBREVIATIONS",
    "EXAMPLE_MAX",
    "FEEDBACK_MAX",
    "FEEDBACK_SENTENCES",
    "LESSON_IDS",
    "MIN_TIPS",
    "OPTION_IDS",
    "OPTION_MAX",
    "QUESTION_MAX",
    "TIP_MAX",
    "TIP_SENTENCES",
    "WHY_MAX",
    "WHY_SENTENCES",
    "Lesson",
    "LessonArea",
    "LessonBook",
    "LessonError",
    "Option",
    "Tip",
    "check_same_shape",
    "count_sentences",
    "next_unfinished",
    "parse_lessons",
]
