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
breaks) ends a clause; no match crosses it, except that . , ; : between two letters or digits only
separates words ("Read.ai", "tl;dv"). A lexicon term matches whole words; `*` at the start or end
of a word allows more letters there; `...` between words allows up to three words in between.

Tool aliases match whole words, longest first, and also with a Norwegian ending added ("copiloten",
"chatgpts"), with a definite "-et"/"-en" of a long alias replaced by another ending ("fagsystem",
"fagsystema" for "fagsystemet"), with two neighbouring letters swapped in words of six letters or
more ("chatgtp", "copliot"), and with one inner letter missing in words of eight letters or more
("midjourny"). An exact alias always wins over such a variant. Only when no alias matches, a
lexicon word for an unassessed tool ("en app", "nettleserutvidelse") or a capitalised unknown name
after "bruke" gives `unknown_tool`.

A field the text does not give is None: the category comes only from words about the information,
never from the task, and a sensitive word that is the topic of a text ("forskning om demens") does
not count.

Only the first `MAX_CHARS` characters of a message are read.
"""

from __future__ import annotations

from bot.core.extraction.extractor import Extraction, extract, looks_like_question
from bot.core.extraction.lexicon import Lexicon
from bot.core.extraction.normalise import MAX_CHARS
from bot.core.extraction.parsing import LexiconError, parse_lexicon
from bot.core.extraction.tools import UNKNOWN_TOOL

__all__ = [
    "MAX_CHARS",
    "UNKNOWN_TOOL",
    "Extraction",
    "Lexicon",
    "LexiconError",
    "extract",
    "looks_like_question",
    "parse_lexicon",
]
