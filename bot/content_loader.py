"""Load and cross-check all content: texts, policy and lexicon. A broken file stops start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.extraction import Lexicon, LexiconError, parse_lexicon
from bot.core.lessons import LessonBook, LessonError, check_same_shape, parse_lessons
from bot.core.policy import Policy, PolicyError, parse_policy, text_keys
from bot.core.privacy.names_lexicon import NameLexicon, NameLexiconError, parse_name_lexicon
from content import LANGUAGES, Catalog, ContentError, Language, load_catalog, read_yaml


@dataclass(frozen=True)
class Content:
    catalog: Catalog
    policy: Policy
    lexicon: Lexicon
    lessons: Mapping[Language, LessonBook]
    service_areas: tuple[str, ...]
    names: NameLexicon


def load_content() -> Content:
    """Everything in content/, validated together; raises ContentError naming the problem."""
    catalog = load_catalog()
    try:
        policy = parse_policy(read_yaml("policy.yaml"))
    except PolicyError as exc:
        raise ContentError(str(exc)) from None
    for language in LANGUAGES:
        missing = sorted(text_keys(policy) - set(catalog.texts(language).entries))
        if missing:
            raise ContentError(
                f"{language}/texts.yaml: policy.yaml needs texts {', '.join(missing[:5])}"
            )
    try:
        lexicon = parse_lexicon(
            read_yaml("lexicon.yaml"),
            task_ids=[task.id for task in policy.tasks],
            category_ids=list(policy.categories),
        )
    except LexiconError as exc:
        raise ContentError(f"lexicon.yaml: {exc}") from None
    books: dict[Language, LessonBook] = {}
    try:
        for language in LANGUAGES:
            books[language] = parse_lessons(
                read_yaml(f"{language}/lessons.yaml"),
                language=language,
                source_ids=list(policy.sources),
            )
        check_same_shape(books)
    except LessonError as exc:
        raise ContentError(str(exc)) from None
    try:
        names = parse_name_lexicon(read_yaml("names.yaml"))
    except NameLexiconError as exc:
        raise ContentError(f"names.yaml: {exc}") from None
    service_areas = _service_areas(read_yaml("learning.yaml"))
    for language in LANGUAGES:
        texts = catalog.texts(language)
        missing = [area for area in service_areas if not texts.has(f"learning.area.{area}")]
        if missing:
            raise ContentError(
                f"{language}/texts.yaml: learning.yaml needs texts "
                + ", ".join(f"learning.area.{area}" for area in missing[:5])
            )
    return Content(
        catalog=catalog,
        policy=policy,
        lexicon=lexicon,
        lessons=books,
        service_areas=service_areas,
        names=names,
    )


def _service_areas(raw: object) -> tuple[str, ...]:
    areas = raw.get("service_areas") if isinstance(raw, Mapping) else None
    if not isinstance(areas, list) or not areas:
        raise ContentError("learning.yaml: 'service_areas' must be a non-empty list of ids")
    ids: list[str] = []
    for area in areas:
        if not isinstance(area, str) or not area.strip() or not area.isascii():
            raise ContentError("learning.yaml: every service area must be a short ASCII id")
        if area in ids:
            raise ContentError(f"learning.yaml: service area '{area}' is listed twice")
        ids.append(area)
    return tuple(ids)
