"""`extract` (tool, task and category of a question) and `looks_like_question`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.core.extraction.lexicon import Lexicon, _Compiled
from bot.core.extraction.normalise import _CLAUSE, _Doc, _doc
from bot.core.extraction.terms import _Term
from bot.core.extraction.tools import _find_tool, _tool_key, _tool_matcher


@dataclass(frozen=True)
class Extraction:
    """What a question is about. Each field is an id from policy.yaml, or None if not said.

    `evidence` lists (field, the user's own words) for each field that was found, so the bot can
    show what it understood and why: (("tool", "ChatGPT"), ("task", "oppsummere"), …).
    """

    tool: str | None
    task: str | None
    category: str | None
    evidence: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Hit:
    key: str
    start: int
    end: int

    @property
    def order(self) -> tuple[int, int]:
        return (self.start, -(self.end - self.start))


def _hits(doc: _Doc, terms: Iterable[_Term]) -> list[_Hit]:
    return [_Hit(t.key, m.start(), m.end()) for t in terms for m in t.finditer(doc)]


def _negation_ends(doc: _Doc, compiled: _Compiled) -> frozenset[int]:
    """Token indices on which a negation phrase ends."""
    ends: set[int] = set()
    for term in compiled.negations:
        for found in term.finditer(doc):
            ends.add(doc.token_at(found.end() - 1))
    return frozenset(ends)


def _preceded(doc: _Doc, hit: _Hit, ends: frozenset[int], window: int, lexicon: Lexicon) -> bool:
    """True if a phrase ends at most `window` words before `hit`, in the same clause, with no
    negation stop word ("men") between."""
    if not ends:
        return False
    index = doc.token_at(hit.start) - 1
    between = 0
    while index >= 0 and between <= window:
        text = doc.tokens[index].text
        if text == _CLAUSE or text in lexicon._compiled.negation_stops:
            return False
        if index in ends:
            return True
        between += 1
        index -= 1
    return False


def _negated(doc: _Doc, hit: _Hit, ends: frozenset[int], lexicon: Lexicon) -> bool:
    return _preceded(doc, hit, ends, lexicon.negation_window, lexicon)


def _topic_spans(doc: _Doc, compiled: _Compiled) -> tuple[list[tuple[int, int]], frozenset[int]]:
    """Offsets covered by topic phrases ("forskning om"), and the token indices they end on."""
    spans: list[tuple[int, int]] = []
    ends: set[int] = set()
    for term in compiled.topics:
        for found in term.finditer(doc):
            spans.append((found.start(), found.end()))
            ends.add(doc.token_at(found.end() - 1))
    return spans, frozenset(ends)


def _about_a_topic(
    doc: _Doc, hit: _Hit, topics: tuple[list[tuple[int, int]], frozenset[int]], lexicon: Lexicon
) -> bool:
    """True if the category word is the subject of the text ("forskning om demens")."""
    spans, ends = topics
    if any(start <= hit.start < end for start, end in spans):
        return True
    return _preceded(doc, hit, ends, lexicon.topic_window, lexicon)


def _choose_task(hits: list[_Hit], lexicon: Lexicon) -> _Hit | None:
    for group in (
        [h for h in hits if h.key in lexicon.high_risk_tasks],
        [h for h in hits if h.key not in lexicon.fallback_tasks],
        hits,
    ):
        if group:
            return min(group, key=lambda h: h.order)
    return None


def _negation_start(doc: _Doc, hit: _Hit, ends: frozenset[int]) -> int:
    """Offset of the nearest negation before `hit` (for evidence like "uten navn")."""
    index = doc.token_at(hit.start) - 1
    while index >= 0 and index not in ends:
        index -= 1
    return doc.offsets[max(index, 0)]


def _choose_category(doc: _Doc, hits: list[_Hit], lexicon: Lexicon) -> tuple[str, int, int] | None:
    compiled = lexicon._compiled
    if not lexicon.categories:
        return None
    least = lexicon.category_order[0]
    ends = _negation_ends(doc, compiled)
    topics = _topic_spans(doc, compiled)
    best: tuple[int, tuple[int, int], str, int, int] | None = None
    for hit in hits:
        key, start = hit.key, hit.start
        if key != least and _about_a_topic(doc, hit, topics, lexicon):
            continue
        if _negated(doc, hit, ends, lexicon):
            if key == least:
                continue
            key = least
            start = _negation_start(doc, hit, ends)
        rank = compiled.category_rank[key]
        candidate = (rank, (-start, hit.end - start), key, start, hit.end)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        return None
    return best[2], best[3], best[4]


def extract(text: str, lexicon: Lexicon, tool_aliases: Mapping[str, Sequence[str]]) -> Extraction:
    """Find the tool, task and information category a question is about.

    Tool: the first tool named (longest alias first); failing that, a word for an unlisted tool
    ("en app", "nettleserutvidelse") or a capitalised unlisted name after "bruke" is
    `unknown_tool` if the caller's tools include that id. Task: a high-risk task if any is named,
    else the first named non-fallback task, else a fallback task. Category: the most sensitive one
    named; negated mentions count as the least sensitive, and sensitive words that are the topic
    of the text ("forskning om demens") do not count. The category comes only from words about
    the information, never from the task. Never raises; returns None for what the text does not
    say, so the guided steps can ask.
    """
    doc = _doc(text)
    if not doc.tokens:
        return Extraction(None, None, None, ())
    compiled = lexicon._compiled
    evidence: list[tuple[str, str]] = []

    tool_found = _find_tool(doc, compiled, tool_aliases)
    tool = None
    if tool_found is not None:
        tool = tool_found[0]
        evidence.append(("tool", tool_found[1]))

    task_hit = _choose_task(_hits(doc, compiled.tasks), lexicon)
    task = None
    if task_hit is not None:
        task = task_hit.key
        evidence.append(("task", doc.original(task_hit.start, task_hit.end)))

    chosen = _choose_category(doc, _hits(doc, compiled.categories), lexicon)
    category: str | None = None
    category_words = ""
    if chosen is not None:
        category = chosen[0]
        category_words = doc.original(chosen[1], chosen[2])
    if category is not None:
        evidence.append(("category", category_words))
    return Extraction(tool, task, category, tuple(evidence))


def looks_like_question(
    text: str, lexicon: Lexicon, tool_aliases: Mapping[str, Sequence[str]] | None = None
) -> bool:
    """True if the text starts with a question opener (after greetings such as "Hei!"), or names
    a tool (from `tool_aliases`) or AI in general together with a task. Never raises."""
    doc = _doc(text)
    if not doc.tokens:
        return False
    compiled = lexicon._compiled
    index = 0
    while index < len(doc.tokens):
        if doc.tokens[index].text == _CLAUSE:
            index += 1
            continue
        offset = doc.offsets[index]
        if any(t.match_at(doc, offset) is not None for t in compiled.openers):
            return True
        greeting = next(
            (m for t in compiled.greetings if (m := t.match_at(doc, offset)) is not None), None
        )
        if greeting is None:
            break
        index = doc.token_at(greeting.end() - 1) + 1
    if not any(next(iter(t.finditer(doc)), None) is not None for t in compiled.tasks):
        return False
    if any(next(iter(t.finditer(doc)), None) is not None for t in compiled.ai_words):
        return True
    if tool_aliases:
        matcher = _tool_matcher(_tool_key(tool_aliases))
        return matcher.pattern is not None and matcher.pattern.search(doc.norm) is not None
    return False
