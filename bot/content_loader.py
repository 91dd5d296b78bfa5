"""Load and cross-check all content: texts, policy and lexicon. A broken file stops start-up."""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, cast

from bot.core.extraction import Lexicon, LexiconError, parse_lexicon
from bot.core.lessons import LessonBook, LessonError, check_same_shape, parse_lessons
from bot.core.policy import Policy, PolicyError, parse_policy, text_keys
from bot.core.privacy.names_lexicon import NameLexicon, NameLexiconError, parse_name_lexicon
from content import LANGUAGES, Catalog, ContentError, Language, load_catalog
from content import read_yaml as parse_yaml


@dataclass(frozen=True)
class Content:
    catalog: Catalog
    policy: Policy
    lexicon: Lexicon
    lessons: Mapping[Language, LessonBook]
    service_areas: tuple[str, ...]
    names: NameLexicon


def load_content(parsed: Path | None = None) -> Content:
    """Everything in content/, validated together; raises ContentError naming the problem.

    `parsed`: a private cache directory where the data files are kept as parsed (`kivett serve`
    and `kivett worker` pass the user's, see `read_data`); every check runs either way."""

    def read_yaml(name: str) -> object:
        return read_data(name, parsed)

    catalog = load_catalog(read_yaml)
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


def _cache_salt() -> bytes:
    import yaml  # already loaded by `content`

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader).__name__
    return f"{yaml.__version__}/{loader}/{marshal.version}/{sys.version_info[:2]}".encode()


def read_data(name: str, cache: Path | None) -> object:
    """`content.read_yaml(name)`, or the same data parsed at an earlier start, kept in `cache` as
    marshal data under a hash of the file's bytes (and of the PyYAML, loader and marshal versions):
    a changed file is parsed, and checked, again. Parsing the lexicon, names and lessons costs a
    start about 15 ms; loading them back about 1 ms. A file whose data marshal cannot hold (a
    date, as in policy.yaml) is parsed every time; a missing, damaged or unwritable cache is
    passed over."""
    if cache is None:
        return parse_yaml(name)
    try:
        raw = resources.files("content").joinpath(name).read_bytes()
    except OSError:
        return parse_yaml(name)  # says which file is missing
    key = hashlib.sha256(_cache_salt() + b"\0" + raw).hexdigest()
    stem = f"content-{_slug(name)}-"
    kept = cache / f"{stem}{key}.marshal"
    with contextlib.suppress(OSError, EOFError, ValueError, TypeError):
        # the user's private directory (cards.template_cache.user_cache_dir); marshal only
        # builds data, it runs nothing
        stored_key, data = marshal.loads(kept.read_bytes())  # noqa: S302
        if stored_key == key:
            return data
    data = parse_yaml(name)
    if resources.files("content").joinpath(name).read_bytes() != raw:
        return data  # changed while we read it: kept at the next start
    try:
        blob = marshal.dumps((key, cast("Any", data)))
    except ValueError:  # not plain data
        return data
    with contextlib.suppress(OSError):
        handle, temporary = tempfile.mkstemp(dir=cache, prefix=kept.name, suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(blob)
            os.replace(temporary, kept)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temporary)
        for earlier in cache.glob(f"{stem}*.marshal"):  # the file's earlier versions
            if earlier != kept:
                with contextlib.suppress(OSError):
                    earlier.unlink()
    return data


def _slug(name: str) -> str:
    """A content file's name as part of a cache file's name ("nb/texts.yaml" -> "nb-texts")."""
    return name.removesuffix(".yaml").replace("/", "-")
