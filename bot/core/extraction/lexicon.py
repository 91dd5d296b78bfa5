"""The lexicon: words and rules from content/lexicon.yaml, compiled once and ready to match."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from bot.core.extraction.normalise import _words
from bot.core.extraction.terms import _compile_terms, _Term


@dataclass(frozen=True)
class _Compiled:
    tasks: tuple[_Term, ...]
    categories: tuple[_Term, ...]
    openers: tuple[_Term, ...]
    greetings: tuple[_Term, ...]
    ai_words: tuple[_Term, ...]
    negations: tuple[_Term, ...]
    topics: tuple[_Term, ...]
    not_tools: tuple[_Term, ...]
    unknown_tool_words: tuple[_Term, ...]
    negation_stops: frozenset[str]
    tool_cues: frozenset[str]
    category_rank: Mapping[str, int]


@dataclass(frozen=True)
class Lexicon:
    """The words and rules from content/lexicon.yaml, ready to match.

    `categories` are ordered from least to most sensitive; `tasks` in the lexicon's order.
    `high_risk_tasks` always win; `fallback_tasks` count only when no other task is found.
    A category is read only from words about the information, never from the task.
    A category term with a `negations` phrase at most `negation_window` words before it (same
    clause, no `negation_stops` word between) counts as the least sensitive category instead.
    A more sensitive category term inside a `topics` phrase or at most `topic_window` words after
    one ("forskning om demens") names the subject of a text, not information in it: it does not
    count.
    When no tool alias matches, an `unknown_tool_words` phrase ("en app", "nettleserutvidelse") or
    a capitalised word right after a `tool_cues` word, not in `not_tools`, is an unlisted tool.
    """

    tasks: Mapping[str, tuple[str, ...]]
    categories: Mapping[str, tuple[str, ...]]
    openers: tuple[str, ...]
    greetings: tuple[str, ...] = ()
    ai_words: tuple[str, ...] = ()
    high_risk_tasks: tuple[str, ...] = ()
    fallback_tasks: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    negation_window: int = 3
    negation_stops: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    topic_window: int = 3
    tool_cues: tuple[str, ...] = ()
    not_tools: tuple[str, ...] = ()
    unknown_tool_words: tuple[str, ...] = ()
    @cached_property
    def _compiled(self) -> _Compiled:
        """The terms as regular expressions (about 1,200), compiled on first use rather than at
        start-up: a bot that is asked no question yet has no need of them (issue 16, cold
        start). `warm_up` compiles them ahead, off the event loop."""
        return _Compiled(
            tasks=tuple(t for key, terms in self.tasks.items() for t in _compile_terms(key, terms)),
            categories=tuple(
                t for key, terms in self.categories.items() for t in _compile_terms(key, terms)
            ),
            openers=_compile_terms("", self.openers),
            greetings=_compile_terms("", self.greetings),
            ai_words=_compile_terms("", self.ai_words),
            negations=_compile_terms("", self.negations),
            topics=_compile_terms("", self.topics),
            not_tools=_compile_terms("", self.not_tools),
            unknown_tool_words=_compile_terms("", self.unknown_tool_words),
            negation_stops=frozenset(w for s in self.negation_stops for w in _words(s)),
            tool_cues=frozenset(w for s in self.tool_cues for w in _words(s)),
            category_rank={key: rank for rank, key in enumerate(self.categories)},
        )

    def warm_up(self) -> None:
        """Compile the terms now (call from a worker thread after start-up)."""
        _ = self._compiled

    @property
    def category_order(self) -> tuple[str, ...]:
        """Category ids from least to most sensitive."""
        return tuple(self.categories)
