"""Read a KI-sjekk question: which tool, which task, which information category.

"Kan jeg bruke ChatGPT til å oppsummere et møtereferat med navn på brukere?" →
tool `chatgpt`, task `summarise`, category `restricted`, with the words that led there.

Everything here is deterministic lexicon matching; there is no model and no I/O. The words live in
`content/lexicon.yaml` (tasks, categories, question openers and a few rules, documented at the top
of that file); the tool names come from `content/policy.yaml` and are passed in as a mapping of tool
id → aliases. YAML is parsed by the caller; `parse_lexicon` validates the parsed data.

Text is compared after normalisation: NFC, case-folded, every run of characters that are not letters
or digits becomes one space (so "m365-copilot", "M365 Copilot" and "m365 copilot" are equal), and
letters and digits are split apart ("gpt4" → "gpt 4"). Sentence punctuation (. , ; : ! ? and line
breaks) ends a clause; no match crosses it. A lexicon term matches whole words; `*` at the start or
end of a word allows more letters there; `...` between words allows up to three words in between.

Tool aliases match whole words, longest first, and also with a Norwegian ending added ("copiloten",
"chatgpts"), with a definite "-et"/"-en" of a long alias replaced by another ending ("fagsystem",
"fagsystema" for "fagsystemet"), and with two neighbouring letters swapped in words of five letters
or more ("chatgtp", "copliot"). An exact alias always wins over such a variant.

Only the first `MAX_CHARS` characters of a message are read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

MAX_CHARS = 4000
"""Characters of a message that are read; a question is far shorter, a pasted document is not."""

UNKNOWN_TOOL = "unknown_tool"
"""The policy's id for a tool it does not list; returned only if the caller's tools include it."""

_CLAUSE = "|"
_CLAUSE_CHARS = frozenset(".,;:!?()[]{}\n\r\u2026")
_GAP = "..."
_GAP_WORDS = 3
_ALIAS_ENDINGS = ("s", "n", "en", "et", "a", "er", "ar", "ene", "ane")
_TYPO_MIN_LENGTH = 5
_TOP_LEVEL_KEYS = frozenset(
    {
        "openers",
        "greetings",
        "ai_words",
        "unknown_tool",
        "negation",
        "task_rules",
        "tasks",
        "categories",
    }
)


class LexiconError(ValueError):
    """The lexicon data is malformed; the message names the place and the problem in one line."""


# ------------------------------------------------------------------------------------------------
# Normalisation


@dataclass(frozen=True)
class _Token:
    text: str  # normalised word, or _CLAUSE
    start: int  # span in the NFC text
    end: int


@dataclass(frozen=True)
class _Doc:
    source: str  # the NFC text the spans refer to
    tokens: tuple[_Token, ...]
    norm: str  # tokens joined by single spaces
    offsets: tuple[int, ...]  # where each token starts in `norm`

    def token_at(self, offset: int) -> int:
        """Index of the token that starts at `offset` in `norm` (a match always starts on one)."""
        low, high = 0, len(self.offsets) - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self.offsets[mid] <= offset:
                low = mid
            else:
                high = mid - 1
        return low

    def original(self, start: int, end: int) -> str:
        """The text the user wrote for the normalised span [start, end), spaces collapsed."""
        first = self.tokens[self.token_at(start)]
        last = self.tokens[self.token_at(max(start, end - 1))]
        return " ".join(self.source[first.start : last.end].split())


def _is_word_char(char: str) -> bool:
    return char.isalnum() or unicodedata.category(char).startswith("M")


def _tokens(text: str, *, star: bool, clauses: bool) -> list[_Token]:
    """Split NFC text into normalised words (and clause marks when `clauses`)."""
    out: list[_Token] = []
    chars: list[str] = []
    kind = ""  # "d" digits, "a" letters, "" not decided yet (only stars so far)
    start = end = 0

    def flush() -> None:
        nonlocal chars, kind
        if chars:
            out.append(_Token("".join(chars), start, end))
        chars, kind = [], ""

    for index, char in enumerate(text):
        if _is_word_char(char) or (star and char == "*"):
            if char == "*" or unicodedata.category(char).startswith("M"):
                this = ""
            else:
                this = "d" if char.isdigit() else "a"
            if chars and this and kind and this != kind:
                flush()
            if not chars:
                start = index
            chars.append(char.casefold())
            end = index + 1
            if this:
                kind = this
            continue
        flush()
        if clauses and char in _CLAUSE_CHARS and out and out[-1].text != _CLAUSE:
            out.append(_Token(_CLAUSE, index, index + 1))
    flush()
    return out


def _doc(text: str) -> _Doc:
    source = unicodedata.normalize("NFC", text[:MAX_CHARS])
    tokens = tuple(_tokens(source, star=False, clauses=True))
    offsets: list[int] = []
    position = 0
    for token in tokens:
        offsets.append(position)
        position += len(token.text) + 1
    return _Doc(source, tokens, " ".join(t.text for t in tokens), tuple(offsets))


def _words(text: str, *, star: bool = False) -> list[str]:
    return [t.text for t in _tokens(unicodedata.normalize("NFC", text), star=star, clauses=False)]


# ------------------------------------------------------------------------------------------------
# Terms


@dataclass(frozen=True)
class _Term:
    key: str  # the task or category id (or "" for openers and the like)
    term: str  # as written in the lexicon
    pattern: re.Pattern[str]
    literal: str  # a piece every match contains; a cheap test before the regular expression

    def finditer(self, doc: _Doc) -> Iterable[re.Match[str]]:
        if self.literal not in doc.norm:
            return ()
        return self.pattern.finditer(doc.norm)

    def match_at(self, doc: _Doc, offset: int) -> re.Match[str] | None:
        if self.literal not in doc.norm:
            return None
        return self.pattern.match(doc.norm, offset)


def _term_problem(term: str) -> str | None:
    """Why `term` cannot be used as a lexicon term, or None if it can."""
    if not term.strip():
        return "is empty"
    pieces = [p.strip() for p in term.replace("\u2026", _GAP).split(_GAP)]
    if not pieces[0] or not pieces[-1]:
        return "'...' must stand between two words"
    for piece in pieces:
        words = _words(piece, star=True)
        if not words or any(not w.strip("*") for w in words):
            return "needs letters or digits in every word"
    return None


def _compile_term(key: str, term: str) -> _Term | None:
    if _term_problem(term) is not None:
        return None
    parts: list[str] = []
    literal = ""
    pieces = term.replace("\u2026", _GAP).split(_GAP)
    for number, piece in enumerate(pieces):
        if number:
            parts.append(rf"(?: \w+){{0,{_GAP_WORDS}}} ")
        words = _words(piece, star=True)
        regexes = []
        for word in words:
            fixed = word.split("*")
            literal = max([literal, *fixed], key=len)
            regexes.append(r"\w*".join(re.escape(bit) for bit in fixed))
        parts.append(" ".join(regexes))
    pattern = re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)")
    return _Term(key, term, pattern, literal)


def _compile_terms(key: str, terms: Iterable[str]) -> tuple[_Term, ...]:
    compiled = (_compile_term(key, term) for term in terms)
    return tuple(t for t in compiled if t is not None)


# ------------------------------------------------------------------------------------------------
# The lexicon


@dataclass(frozen=True)
class _Compiled:
    tasks: tuple[_Term, ...]
    categories: tuple[_Term, ...]
    openers: tuple[_Term, ...]
    greetings: tuple[_Term, ...]
    ai_words: tuple[_Term, ...]
    negations: tuple[_Term, ...]
    not_tools: tuple[_Term, ...]
    negation_stops: frozenset[str]
    tool_cues: frozenset[str]
    category_rank: Mapping[str, int]


@dataclass(frozen=True)
class Lexicon:
    """The words and rules from content/lexicon.yaml, ready to match.

    `categories` are ordered from least to most sensitive; `tasks` in the lexicon's order.
    `high_risk_tasks` always win; `fallback_tasks` count only when no other task is found;
    `minimum_category` lifts the category for tasks that always concern personal data.
    A category term with a `negations` phrase at most `negation_window` words before it (same
    clause, no `negation_stops` word between) counts as the least sensitive category instead.
    A capitalised word right after a `tool_cues` word, not in `not_tools`, is an unlisted tool.
    """

    tasks: Mapping[str, tuple[str, ...]]
    categories: Mapping[str, tuple[str, ...]]
    openers: tuple[str, ...]
    greetings: tuple[str, ...] = ()
    ai_words: tuple[str, ...] = ()
    high_risk_tasks: tuple[str, ...] = ()
    fallback_tasks: tuple[str, ...] = ()
    minimum_category: Mapping[str, str] = field(default_factory=dict)
    negations: tuple[str, ...] = ()
    negation_window: int = 3
    negation_stops: tuple[str, ...] = ()
    tool_cues: tuple[str, ...] = ()
    not_tools: tuple[str, ...] = ()
    _compiled: _Compiled = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = _Compiled(
            tasks=tuple(t for key, terms in self.tasks.items() for t in _compile_terms(key, terms)),
            categories=tuple(
                t for key, terms in self.categories.items() for t in _compile_terms(key, terms)
            ),
            openers=_compile_terms("", self.openers),
            greetings=_compile_terms("", self.greetings),
            ai_words=_compile_terms("", self.ai_words),
            negations=_compile_terms("", self.negations),
            not_tools=_compile_terms("", self.not_tools),
            negation_stops=frozenset(w for s in self.negation_stops for w in _words(s)),
            tool_cues=frozenset(w for s in self.tool_cues for w in _words(s)),
            category_rank={key: rank for rank, key in enumerate(self.categories)},
        )
        object.__setattr__(self, "_compiled", compiled)

    @property
    def category_order(self) -> tuple[str, ...]:
        """Category ids from least to most sensitive."""
        return tuple(self.categories)


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
    minimum_raw = _mapping(rules.get("minimum_category") or {}, "task_rules.minimum_category")
    minimum: dict[str, str] = {}
    for task, category in minimum_raw.items():
        if not isinstance(task, str) or task not in tasks:
            raise LexiconError(f"lexicon task_rules.minimum_category: unknown task id {task!r}")
        if not isinstance(category, str) or category not in categories:
            raise LexiconError(
                f"lexicon task_rules.minimum_category.{task}: unknown category id {category!r}"
            )
        minimum[task] = category
    for key in rules:
        if key not in ("high_risk", "fallback", "minimum_category"):
            raise LexiconError(f"lexicon task_rules: unknown rule {key!r}")

    negation = _mapping(top.get("negation") or {}, "negation")
    window = negation.get("window", 3)
    if isinstance(window, bool) or not isinstance(window, int) or not 0 <= window <= 10:
        raise LexiconError("lexicon negation.window: must be a whole number from 0 to 10")
    stops = _terms(negation.get("stop_words") or [], "negation.stop_words")
    for stop in stops:
        if len(_words(stop)) != 1:
            raise LexiconError(f"lexicon negation.stop_words: {stop!r} must be one word")

    unknown = _mapping(top.get("unknown_tool") or {}, "unknown_tool")
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
        minimum_category=minimum,
        negations=_terms(negation.get("words") or [], "negation.words"),
        negation_window=window,
        negation_stops=stops,
        tool_cues=cues,
        not_tools=_terms(unknown.get("not_tools") or [], "unknown_tool.not_tools"),
    )


# ------------------------------------------------------------------------------------------------
# Tools


def _swaps(word: str) -> Iterable[str]:
    if len(word) < _TYPO_MIN_LENGTH or not word.isalpha():
        return
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@dataclass(frozen=True)
class _ToolMatcher:
    pattern: re.Pattern[str] | None
    variants: Mapping[str, str]  # normalised variant → tool id


@lru_cache(maxsize=16)
def _tool_matcher(key: tuple[tuple[str, tuple[str, ...]], ...]) -> _ToolMatcher:
    exact: dict[str, str] = {}
    loose: dict[str, str] = {}
    for tool, aliases in key:
        for alias in aliases:
            words = _words(alias)
            if not words:
                continue
            exact.setdefault(" ".join(words), tool)
            head, last = words[:-1], words[-1]
            stems = [last]
            if len(last) >= 8 and last.endswith(("et", "en")):
                stems.append(last[:-2])
            forms = [stem + end for stem in stems for end in ("", *_ALIAS_ENDINGS)]
            for form in forms:
                loose.setdefault(" ".join([*head, form]), tool)
            for position, word in enumerate(words):
                for typo in _swaps(word):
                    loose.setdefault(
                        " ".join([*words[:position], typo, *words[position + 1 :]]), tool
                    )
    variants = {**loose, **exact}
    if not variants:
        return _ToolMatcher(None, {})
    ordered = sorted(variants, key=lambda v: (-len(v), v))
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in ordered) + r")(?!\w)")
    return _ToolMatcher(pattern, variants)


def _tool_key(tool_aliases: Mapping[str, Sequence[str]]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    key: list[tuple[str, tuple[str, ...]]] = []
    for tool, aliases in tool_aliases.items():
        names = (aliases,) if isinstance(aliases, str) else tuple(aliases)
        key.append((tool, tuple(a for a in names if isinstance(a, str))))
    return tuple(key)


def _find_tool(
    doc: _Doc, compiled: _Compiled, tool_aliases: Mapping[str, Sequence[str]]
) -> tuple[str, str] | None:
    """(tool id, the user's words) for the first tool named, longest alias first."""
    matcher = _tool_matcher(_tool_key(tool_aliases))
    if matcher.pattern is not None:
        found = matcher.pattern.search(doc.norm)
        if found is not None:
            return matcher.variants[found.group()], doc.original(found.start(), found.end())
    if UNKNOWN_TOOL not in tool_aliases:
        return None
    tokens = doc.tokens
    for index in range(len(tokens) - 1):
        name = tokens[index + 1]
        if tokens[index].text not in compiled.tool_cues or name.text == _CLAUSE:
            continue
        if not doc.source[name.start].isupper():
            continue
        offset = doc.offsets[index + 1]
        if any(t.match_at(doc, offset) is not None for t in compiled.not_tools):
            continue
        word_end = name.end
        while word_end < len(doc.source) and not doc.source[word_end].isspace():
            word_end += 1
        return UNKNOWN_TOOL, doc.source[name.start : word_end].strip(".,;:!?()\"'«»")
    return None


# ------------------------------------------------------------------------------------------------
# Extraction


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


def _negated(doc: _Doc, hit: _Hit, ends: frozenset[int], lexicon: Lexicon) -> bool:
    if not ends:
        return False
    index = doc.token_at(hit.start) - 1
    between = 0
    while index >= 0 and between <= lexicon.negation_window:
        text = doc.tokens[index].text
        if text == _CLAUSE or text in lexicon._compiled.negation_stops:
            return False
        if index in ends:
            return True
        between += 1
        index -= 1
    return False


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
    best: tuple[int, tuple[int, int], str, int, int] | None = None
    for hit in hits:
        key, start = hit.key, hit.start
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

    Tool: the first tool named (longest alias first); a capitalised unlisted name after "bruke" is
    `unknown_tool` if the caller's tools include that id. Task: a high-risk task if any is named,
    else the first named non-fallback task, else a fallback task. Category: the most sensitive one
    named; negated mentions count as the least sensitive; a task's minimum category applies.
    Never raises; returns None for what the text does not say.
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
    if task_hit is not None and task_hit.key in lexicon.minimum_category:
        floor = lexicon.minimum_category[task_hit.key]
        rank = compiled.category_rank
        if floor in rank and (category is None or rank[floor] > rank[category]):
            category = floor
            category_words = doc.original(task_hit.start, task_hit.end)
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
