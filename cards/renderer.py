"""One renderer: a view + the language's texts → Adaptive Card JSON (schema 1.5).

Templates are JSON with Jinja2 expressions. The environment's `finalize` turns every `{{ … }}`
value into JSON (a string becomes a quoted, escaped JSON string), so no text is ever spliced into
JSON by hand. A `UserText` value (what a user typed) is escaped for Teams markdown on the way
(`cards.markdown`). Macros return Markup, which passes through unchanged. `StrictUndefined` makes a
missing value an error instead of an empty field.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from cards.markdown import UserText
from cards.verbs import PAYLOAD_VERSION, Verb
from cards.views import CardView
from content import Texts

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA_VERSION = "1.5"
CACHE_SIZE = 256


class CardRenderError(Exception):
    """A template produced something that is not an Adaptive Card."""


def _to_json(value: object) -> Markup:
    """Encode every template value as JSON. Macro output (already JSON) is Markup and passes."""
    if isinstance(value, Markup):
        return value
    if isinstance(value, UserText):  # what a user typed is shown as typed, never as markdown
        return Markup(json.dumps(str(value), ensure_ascii=False))  # noqa: S704 - as below
    return Markup(json.dumps(value, ensure_ascii=False))  # noqa: S704 - JSON-encoded just here


def _state_data(state: object) -> dict[str, object]:
    """Button data: the payload version plus a flow's state, as flat string values (some clients,
    the Agents Playground among them, send every data value back as a string)."""
    data: dict[str, object] = {"v": PAYLOAD_VERSION}
    if isinstance(state, list | tuple):
        data.update({str(key): str(value) for key, value in state})
    return data


class CardRenderer:
    """Renders views into Adaptive Card dictionaries."""

    def __init__(self, *, cache_size: int = CACHE_SIZE, template_cache: Path | None = None) -> None:
        """`template_cache`: a directory where compiled templates are kept between starts
        (`cards.template_cache`); without one, every process compiles each template it uses."""
        self._cache_size = cache_size
        self._env = Environment(
            loader=PackageLoader("cards", "templates"),
            undefined=StrictUndefined,
            finalize=_to_json,
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        if template_cache is not None:
            from cards.template_cache import CardTemplateCache

            self._env.bytecode_cache = CardTemplateCache(template_cache, self._env)
        self._env.globals["verbs"] = {verb.name: verb.value for verb in Verb}
        self._env.globals["payload_version"] = PAYLOAD_VERSION
        self._env.globals["schema_version"] = SCHEMA_VERSION
        self._env.globals["state_data"] = _state_data
        self._cache: OrderedDict[tuple[object, ...], str] = OrderedDict()

    @property
    def cached_cards(self) -> int:
        """How many rendered cards are kept (at most `cache_size`, oldest dropped first)."""
        return len(self._cache)

    def render(self, view: CardView, texts: Texts) -> dict[str, Any]:
        """A fresh card dict. Rendering is cached per (view, language): views are frozen data and
        texts do not change while the bot runs, so the same inputs always give the same card."""
        key: tuple[object, ...] | None = None
        if getattr(view, "cacheable", True):  # views holding what a user wrote are never kept
            try:
                key = (view, texts.language, id(texts.entries))
                hash(key)
            except TypeError:  # a view holding unhashable data is simply rendered every time
                key = None
        rendered = self._cache.get(key) if key is not None else None
        if rendered is None:
            template = self._env.get_template(view.template)
            rendered = template.render(v=asdict(view), t=texts, lang=texts.language)
            if key is not None:
                self._cache[key] = rendered
                if len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        try:
            card = json.loads(rendered)
        except json.JSONDecodeError as exc:
            raise CardRenderError(f"{view.template}: not valid JSON ({exc.msg})") from None
        if not isinstance(card, dict) or card.get("type") != "AdaptiveCard":
            raise CardRenderError(f"{view.template}: not an AdaptiveCard")
        _mark_language(card, texts.language)
        return card


LANGUAGE_KEY = "lang"
"""The data key every button carries: the language of its card, so the answer to a press comes in
the language the person was reading (bot.core.language)."""


def _mark_language(node: object, language: str) -> None:
    """Add the card's language to the data of every Action.Execute, wherever it sits (body, action
    sets, show-card actions)."""
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            data = node.setdefault("data", {})
            if isinstance(data, dict):
                data[LANGUAGE_KEY] = language
        for value in node.values():
            if isinstance(value, dict | list):
                _mark_language(value, language)
    elif isinstance(node, list):
        for item in node:
            _mark_language(item, language)
