"""`parse_lexicon`: validate parsed lexicon.yaml against the policy and build a `Lexicon`."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from bot.core.extraction.lexicon import Lexicon
from bot.core.extraction.normalise import _words
from bot.core.extraction.terms import _term_problem

_TOP_LEVEL_KEYS = frozenset(
    {
        "openers",
        "greetings",
        "ai_words",
        "unknown_tool",
        "negation",
        "topic",
        "task_rules",
        "tasks",
        "categories",
    }
)


_UNKNOWN_TOOL_KEYS = frozenset({"cues", "not_tools", "words"})


class LexiconError(ValueError):
    """The lexicon data is malformed; the message names the place and the problem in one line."""


def _where(path: str) -> str:
    return f"lexicon {path}" if path else "lexicon"


def _terms(raw: object, path: str) -> tuple[str, ...]:
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise LexiconError(f"{_where(path)}: must be a list of words")
    terms: list[str] = []
    for number, term in enumerate(raw, start=1):
        if not isinstance(term, str):
            raise LexiconError(
                f"{_where(path)}: word {number} must be text (got {term!r}); put it in quotes"
            )
        problem = _term_problem(term)
        if problem is not None:
            raise LexiconError(f"{_where(path)}: word {number} ({term!r}) {problem}")
        if term.strip() not in terms:
            terms.append(term.strip())
    return tuple(terms)


def _mapping(raw: object, path: str) -> Mapping[object, object]:
    if not isinstance(raw, Mapping):
        raise LexiconError(f"{_where(path)}: must be a mapping")
    return raw


def _id_lists(
    raw: object, path: str, known: Collection[str], what: str
) -> dict[str, tuple[str, ...]]:
    mapping = _mapping(raw, path)
    out: dict[str, tuple[str, ...]] = {}
    for key, terms in mapping.items():
        if not isinstance(key, str) or key not in known:
            raise LexiconError(
                f"{_where(path)}: unknown {what} id {key!r} (known: {', '.join(sorted(known))})"
            )
        out[key] = _terms(terms, f"{path}.{key}")
        if not out[key]:
            raise LexiconError(f"{_where(f'{path}.{key}')}: needs at least one word")
    missing = [k for k in known if k not in out]
    if missing:
        raise LexiconError(
            f"{_where(path)}: no words for {what} {', '.join(sorted(missing))} "
            f"(every {what} in policy.yaml needs at least one)"
        )
    return out


def _window(section: Mapping[object, object], path: str) -> int:
    window = section.get("window", 3)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 10:
        raise LexiconError(f"lexicon {path}.window: must be a whole number from 0 to 10")
    return window


def _known_ids(raw: object, path: str, known: Collection[str], what: str) -> tuple[str, ...]:
    ids = _terms(raw, path) if raw is not None else ()
    for key in ids:
        if key not in known:
            raise LexiconError(f"{_where(path)}: unknown {what} id {key!r}")
    return ids


def parse_lexicon(
    raw: object, *, task_ids: Collection[str], category_ids: Collection[str]
) -> Lexicon:
    """Validate parsed lexicon.yaml against the policy's task and category ids.

    Raises LexiconError with a one-line message that names the place and the problem.
    If `category_ids` is a sequence, the lexicon's categories must be in the same order.
    """
    top = _mapping(raw, "")
    for key in top:
        if key not in _TOP_LEVEL_KEYS:
            raise LexiconError(
                f"lexicon: unknown section {key!r} (known: {', '.join(sorted(_TOP_LEVEL_KEYS))})"
            )
    for required in ("tasks", "categories", "openers"):
        if top.get(required) is None:
            raise LexiconError(f"lexicon: section {required!r} is missing")

    tasks = _id_lists(top["tasks"], "tasks", task_ids, "task")
    categories = _id_lists(top["categories"], "categories", category_ids, "category")
    if isinstance(category_ids, Sequence) and not isinstance(category_ids, str):
        policy_order = [c for c in category_ids if c in categories]
        if list(categories) != policy_order:
            raise LexiconError(
                "lexicon categories: must be listed in the policy's order, least to most "
                f"sensitive: {', '.join(policy_order)}"
            )

    rules = _mapping(top.get("task_rules") or {}, "task_rules")
    if "minimum_category" in rules:
        raise LexiconError(
            "lexicon task_rules.minimum_category: this rule is gone; a category is read only "
            "from words about the information, never from the task, so delete it"
        )
    for key in rules:
        if key not in ("high_risk", "fallback"):
            raise LexiconError(f"lexicon task_rules: unknown rule {key!r}")

    negation = _mapping(top.get("negation") or {}, "negation")
    window = _window(negation, "negation")
    topic = _mapping(top.get("topic") or {}, "topic")
    for key in topic:
        if key not in ("words", "window"):
            raise LexiconError(f"lexicon topic: unknown key {key!r} (known: window, words)")
    topic_window = _window(topic, "topic")
    stops = _terms(negation.get("stop_words") or [], "negation.stop_words")
    for stop in stops:
        if len(_words(stop)) != 1:
            raise LexiconError(f"lexicon negation.stop_words: {stop!r} must be one word")

    unknown = _mapping(top.get("unknown_tool") or {}, "unknown_tool")
    for key in unknown:
        if key not in _UNKNOWN_TOOL_KEYS:
            raise LexiconError(
                f"lexicon unknown_tool: unknown list {key!r} "
                f"(known: {', '.join(sorted(_UNKNOWN_TOOL_KEYS))})"
            )
    cues = _terms(unknown.get("cues") or [], "unknown_tool.cues")
    for cue in cues:
        if len(_words(cue)) != 1:
            raise LexiconError(f"lexicon unknown_tool.cues: {cue!r} must be one word")

    openers = _terms(top["openers"], "openers")
    if not openers:
        raise LexiconError("lexicon openers: needs at least one word")
    return Lexicon(
        tasks=tasks,
        categories=categories,
        openers=openers,
        greetings=_terms(top.get("greetings") or [], "greetings"),
        ai_words=_terms(top.get("ai_words") or [], "ai_words"),
        high_risk_tasks=_known_ids(rules.get("high_risk"), "task_rules.high_risk", tasks, "task"),
        fallback_tasks=_known_ids(rules.get("fallback"), "task_rules.fallback", tasks, "task"),
        negations=_terms(negation.get("words") or [], "negation.words"),
        negation_window=window,
        negation_stops=stops,
        topics=_terms(topic.get("words") or [], "topic.words"),
        topic_window=topic_window,
        tool_cues=cues,
        not_tools=_terms(unknown.get("not_tools") or [], "unknown_tool.not_tools"),
        unknown_tool_words=_terms(unknown.get("words") or [], "unknown_tool.words"),
    )
