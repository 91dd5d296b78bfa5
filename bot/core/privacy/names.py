"""Find person names in running Norwegian text (bokmål and nynorsk), without storing it.

`find_names(text, lexicon)` returns every name it finds as a `NameSpan`: where it is, the text,
and why it was taken. The word lists live in content/names.yaml (see `parse_name_lexicon`).

How it reads a text:

1. Words are split out; a word glued to digits ("7B", "E39") is not a word. Words written in
   capitals only (NAV, NTNU) are never names. Capitalised words standing next to each other on
   one line, with nothing but spaces between, form a run; lowercase particles inside a run
   ("van der", "bin", "dela") and prefixed words ("al-Hassan") belong to it.
2. A run is left alone when it follows a place preposition ("i Drammen", "på Stovner"), when a
   word after it makes it an organisation or a street ("Asker kommune", "Kong Haakons gate",
   "Storgata 12"), or when one of its words ends like an organisation or a street
   ("Datatilsynet", "Drammensveien"). A stop word (organisation, product, weekday, month) or a
   stop phrase splits it. On a line written in title case ("Vedtak Om Tildeling Av Bolig") only
   listed names count.
3. "list" and "context": a run is a name when one of its words is a listed first name, or it
   has two words or more and one is a listed surname ("list"); or when a context word stands
   right before it: a role, relation or title ("saksbehandler Fatima Ali", "dr. Hansen", also
   compounds ending in one: "Spesialpedagog …"), a verb of contact ("ringte", "møtte"), a
   greeting or a label ("Hei", "Mvh", "Til stede:"), or it continues a list of names ("Kari og
   Per") ("context"). After a preposition ("til", "med", "hos") one unlisted word counts only
   when it looks like a name and a personal pronoun follows ("snakket med Borghild …, hun"), and
   a run with an ordinary word in it never counts ("av Røde Kors").
4. "shape", for names that are not listed: two or more capitalised words in a row that are not
   ordinary words (function words, common words, titles, nouns by their endings, places, places
   by their endings), anywhere in a sentence ("Torgeir Skjelbred ønsker …"); a function word or
   a long noun before them is dropped ("Kan Bashiir Aadan …", "Tvillingene Mykyta …"). One such
   word counts when it is followed by a verb whose subject it is ("Kolbjørn har", "Arnfinn
   nektet", but not "Lunsj spiste hun"), by "sin"/"si" or by an age ("(14 år)", ", f. 2014"),
   unless it ends like a definite noun ("Saken", "Møtet"), is longer than a name tends to be or
   follows an organisation in a list. A list that ends in a name makes the words listed before
   it names ("Sohail, Farzana og Mukhtar lager …"). One word inside a sentence, right after a
   verb or another lowercase word that is not a function word, counts when a personal pronoun
   follows within two sentences ("fant Marjatta på gulvet. Hun …").
5. What organisations, events and products look like: a run followed by a verb of companies
   ("Hafslund varsler", "… lanserer") is not a name by its shape unless a personal pronoun
   follows in the sentence; event words ("Festival", "Cup", "Dagene", "-festivalen") and
   English product words ("Book", "Creator", "-ator") are ordinary words; and a run after a
   product cue ("appen Showbie", "lisenser til Kahoot", "leverandøren …"), or listed after such a
   run ("… og Book Creator"), counts only when it holds a listed name.

What it does not find: names written in lower case, one unlisted word with nothing around it
that says person ("ble Zaid holdt igjen"), a name addressed at the end of a sentence ("Takk,
Ewelina."), names that look like definite nouns ("Yevhen har"), and anything that identifies a
person without a name (health details, "the only Somali-speaking teacher at the school"). It
may take a single unknown organisation or product that is followed by a verb ("Tekna har") for
a name, or a product mid-sentence when a pronoun about someone else follows ("Vi bestilte
Kahoot. Han i IT …"); an unlisted name right after a product cue is missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bot.core.privacy.names_lexicon import NameLexicon, NameLexiconError, parse_name_lexicon

__all__ = ["NameLexicon", "NameLexiconError", "NameSpan", "find_names", "parse_name_lexicon"]

NameReason = Literal["list", "context", "shape"]


@dataclass(frozen=True)
class NameSpan:
    """A person name: text[start:end] == text, found because of `reason`."""

    start: int
    end: int
    text: str
    reason: NameReason


_WORD: Final = re.compile(r"(?<![\w])[^\W\d_]+(?:['’\-][^\W\d_]+)*(?![\w])")
_SAME_LINE_SPACE: Final = re.compile(r"[ \t\u00a0]+")
_CONTEXT_GAP: Final = re.compile(
    r"\.?[ \t\u00a0]*[\n]?[ \t\u00a0]*|[ \t\u00a0]*[,:][ \t\u00a0]*[\n]?[ \t\u00a0]*"
)
_LIST_GAP: Final = re.compile(
    r"[ \t\u00a0]*(?:,|&|/)[ \t\u00a0]*|[ \t\u00a0]+(?:og|eller|samt)[ \t\u00a0]+"
)
_HOUSE_NUMBER: Final = re.compile(r"[ \t\u00a0]+\d")
_SENTENCE_END: Final = '.!?:;\n•*–-("«'
_NEXT_WORD: Final = re.compile(r"[ \t\u00a0]+([^\W\d_]+)")
_AFTER_PERSON: Final = re.compile(
    r"[ \t\u00a0]+(?:sin|si|sitt|sine)(?!\w)"  # "Eldbjørg sin sønn"
    r"|[ \t\u00a0]*\([ \t\u00a0]*\d{1,3}[ \t\u00a0]*år[ \t\u00a0]*\)"  # "(14 år)"
    r"|[ \t\u00a0]*,[ \t\u00a0]*(?:f\.|fødd?\b|født\b)[ \t\u00a0]*\d"  # ", f. 2014"
    r"|[ \t\u00a0]*,[ \t\u00a0]*\d{1,3}[ \t\u00a0]*år(?!\w)"  # ", 9 år"
)
# "(78)" after one word counts inside a sentence only: "Vedlegg (3)" starts a line.
_AGE: Final = re.compile(r"[ \t\u00a0]*\([ \t\u00a0]*\d{1,3}[ \t\u00a0]*\)")
# A single word ending like a noun in the definite form or an agent noun ("Saken", "Møtet",
# "Avløser", "Søknadene") is not a name by its shape alone.
_DEFINITE_ENDINGS: Final = ("en", "et", "ne", "er")
_LINE: Final = re.compile(r"[^\n]+")
_VERB_ENDINGS: Final = ("et", "te", "de", "er")
_PERSONAL_PRONOUN: Final = re.compile(
    r"(?<!\w)(?:han|hun|ho|ham|honom|henne|hans|hennes|hennar|hen)(?!\w)", re.IGNORECASE
)
_SENTENCE_STOP: Final = re.compile(r"[.!?\n]")
_PRONOUN_REACH: Final = 160
_SUBJECT_AFTER: Final = re.compile(
    r"[ \t\u00a0]+(?:hun|han|ho|de|dei|vi|me|jeg|eg|du|dere|dykk|man|det|den)(?!\w)"
)
# A single unlisted word longer than this is a compound ("Nabovarsel", "Innbyggere"), not a name.
_LONGEST_SINGLE: Final = 11
_PREVIOUS_WORD: Final = re.compile(r"([^\W\d_]+)[ \t\u00a0]+$")
_PREVIOUS_LIST_ITEM: Final = re.compile(
    r"([^\W\d_]+)(?:[ \t\u00a0]*(?:,|&|/)[ \t\u00a0]*|[ \t\u00a0]+(?:og|eller|samt)[ \t\u00a0]+)$"
)


@dataclass(frozen=True)
class _Word:
    start: int
    end: int
    text: str

    @property
    def key(self) -> str:
        return self.text.casefold()


def _words(text: str) -> list[_Word]:
    return [_Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def _is_capitalised(word: str, lexicon: NameLexicon) -> bool:
    if len(word) < 2 or word.isupper():
        return False
    if word[0].isupper():
        return True
    head, _, tail = word.partition("-")
    return bool(tail) and head.casefold() in lexicon.particles and tail[0].isupper()


def _parts(word: str) -> list[str]:
    return [part.casefold() for part in re.split(r"[-'’]", word) if part]


def _is_first_name(word: str, lexicon: NameLexicon, *, ambiguous: bool) -> bool:
    names = (
        lexicon.first_names | lexicon.ambiguous_first_names if ambiguous else lexicon.first_names
    )
    return word.casefold() in names or any(part in lexicon.first_names for part in _parts(word))


def _is_surname(word: str, lexicon: NameLexicon) -> bool:
    return word.casefold() in lexicon.surnames or any(
        part in lexicon.surnames for part in _parts(word)
    )


def _ends_with(word: str, endings: tuple[str, ...]) -> bool:
    key = word.casefold()
    if not key.endswith(endings):  # one call in C for the common case
        return False
    return any(key.endswith(e) and len(key) > len(e) for e in endings)


def _is_stop(word: _Word, lexicon: NameLexicon, blocked: list[tuple[int, int]]) -> bool:
    return (
        word.key in lexicon.stop_words
        or _ends_with(word.text, lexicon.organisation_endings)
        or any(start < word.end and word.start < end for start, end in blocked)
    )


def _sentence_start(text: str, start: int) -> bool:
    before = text[max(0, start - 200) : start].rstrip(" \t\u00a0")
    return start == 0 or not before or before[-1] in _SENTENCE_END


def _blocked_phrases(text: str, lexicon: NameLexicon) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for phrase in lexicon.stop_phrases:
        pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
        spans.extend(m.span() for m in re.finditer(pattern, text, re.IGNORECASE))
    return spans


def _runs(text: str, words: list[_Word], lexicon: NameLexicon) -> list[tuple[int, int]]:
    """Index ranges [i, j) of runs of capitalised words (with particles inside) on one line."""
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not _is_capitalised(words[i].text, lexicon):
            i += 1
            continue
        j = i + 1
        while j < len(words) and _SAME_LINE_SPACE.fullmatch(
            text[words[j - 1].end : words[j].start]
        ):
            if _is_capitalised(words[j].text, lexicon):
                j += 1
                continue
            k = j  # particles, then a capitalised word
            while (
                k < len(words)
                and words[k].key in lexicon.particles
                and _SAME_LINE_SPACE.fullmatch(text[words[k - 1].end : words[k].start])
            ):
                k += 1
            if (
                k > j
                and k < len(words)
                and _SAME_LINE_SPACE.fullmatch(text[words[k - 1].end : words[k].start])
                and _is_capitalised(words[k].text, lexicon)
            ):
                j = k + 1
                continue
            break
        runs.append((i, j))
        i = j
    return runs


def _split_at_stops(
    run: tuple[int, int], words: list[_Word], lexicon: NameLexicon, blocked: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    parts: list[tuple[int, int]] = []
    start = run[0]
    for k in range(run[0], run[1]):
        if _is_stop(words[k], lexicon, blocked):
            if k > start:
                parts.append((start, k))
            start = k + 1
    if run[1] > start:
        parts.append((start, run[1]))
    return parts


def _followed_by_non_name(text: str, end: int, after: _Word | None, lex: NameLexicon) -> bool:
    if _HOUSE_NUMBER.match(text, end):
        return True
    if after is None or not _SAME_LINE_SPACE.fullmatch(text[end : after.start]):
        return False
    key = after.key
    if key in lex.street_words:
        return True
    if len(key) <= 3 and not after.text.isupper():
        return False  # "AS", "SA", "IKS" count in capitals only: "Piera Logje sa at …"
    return any(key == s or (len(s) >= 5 and key.endswith(s)) for s in lex.organisation_suffixes)


def _heading_lines(text: str, words: list[_Word], lex: NameLexicon) -> list[tuple[int, int]]:
    """Lines written in title case ("Vedtak Om Tildeling Av Bolig"): a function word written
    with a capital inside a sentence, and at least three capitalised words."""
    spans: list[tuple[int, int]] = []
    k = 0
    for line in _LINE.finditer(text):
        while k < len(words) and words[k].start < line.start():
            k += 1
        capitalised: list[_Word] = []
        while k < len(words) and words[k].start < line.end():
            if words[k].text[0].isupper():
                capitalised.append(words[k])
            k += 1
        if len(capitalised) >= 3 and any(
            w.key in lex.function_words and not _sentence_start(text, w.start) for w in capitalised
        ):
            spans.append(line.span())
    return spans


def find_names(text: str, names: NameLexicon) -> list[NameSpan]:
    """Every person name found in `text`, in order of position, without overlaps."""
    words = _words(text)
    blocked = _blocked_phrases(text, names)
    headings = _heading_lines(text, words, names)
    found: list[NameSpan] = []
    unsure: list[NameSpan] = []  # name-like words not taken, in case a list shows they are names
    product_end = -1  # end of the last run that named a product ("lisenser til Kahoot")
    for run in _runs(text, words, names):
        after = words[run[1]] if run[1] < len(words) else None
        if _followed_by_non_name(text, words[run[1] - 1].end, after, names):
            continue
        before = words[run[0] - 1] if run[0] > 0 else None
        gap = text[before.end : words[run[0]].start] if before else ""
        if before and before.key in names.place_prepositions and _SAME_LINE_SPACE.fullmatch(gap):
            continue
        weak = bool(before and before.key in names.function_words)  # "til", "fra", "med" …
        context = bool(
            before
            and _is_context(before, names)
            and _CONTEXT_GAP.fullmatch(gap)
            # a label ("Til stede:", "Referent:") may end in a colon; a header ("Til:") may not
            and not (":" in gap and before.key in names.function_words)
        )
        heading = any(start <= words[run[0]].start < end for start, end in headings)
        # a product or a list of them ("lisenser til Kahoot og Book Creator"): only a listed
        # name counts ("appen til Kari Hansen")
        product = (
            (
                _after_product_cue(text, words, run[0], names)
                or (
                    run[1] - run[0] > 1 and words[run[0]].key in names.product_cues
                )  # "Appen Showbie"
            )
            or bool(
                product_end >= 0 and _LIST_GAP.fullmatch(text[product_end : words[run[0]].start])
            )
        )
        if product:
            product_end = words[run[1] - 1].end
        parts = _split_at_stops(run, words, names, blocked)
        if heading:  # "Referat Fra Samtale Med Kari Nordmann": split at "Fra", "Med"
            parts = [p for part in parts for p in _split_heading(part, words, names)]
        for i, j in parts:
            span = _judge(
                text,
                words[i:j],
                names,
                context=context and i == run[0],
                weak=weak,
                found=found,
                heading=heading,
            )
            if product and span is not None and not _listed(words[i:j], names):
                continue
            if span is not None:
                _take_list_before(text, span, unsure, found)
                found.append(span)
            elif not heading and not product:
                word = _name_like(text, words[i:j], names)
                if word is not None:
                    unsure.append(NameSpan(word.start, word.end, word.text, "context"))
    return found


def _listed(run: list[_Word], lex: NameLexicon) -> bool:
    """A listed first name, or a listed surname with another word next to it."""
    return any(_is_first_name(w.text, lex, ambiguous=False) for w in run) or (
        len(run) > 1 and any(_is_surname(w.text, lex) for w in run)
    )


def _after_product_cue(text: str, words: list[_Word], i: int, lex: NameLexicon) -> bool:
    """The run at words[i] follows a word that says a product or supplier follows, right before
    it or before a preposition: "appen Showbie", "lisenser til Kahoot", "leverandøren Tieto"."""
    k = i - 1
    if k >= 0 and words[k].key in lex.function_words and words[k].key not in lex.product_cues:
        k -= 1
    if k < 0 or words[k].key not in lex.product_cues:
        return False
    return all(
        _SAME_LINE_SPACE.fullmatch(text[words[m].end : words[m + 1].start]) for m in range(k, i)
    )


def _without_leading_noun(run: list[_Word]) -> list[_Word]:
    """Drop a long definite noun before a name: "Ungdomsklubben Bakgarden", "Tvillingene Mykyta"."""
    if len(run) >= 2 and len(run[0].text) >= 9 and run[0].key.endswith(("en", "ene", "ane")):
        return run[1:]
    return run


def _name_like(text: str, run: list[_Word], lex: NameLexicon) -> _Word | None:
    """The one word left of a run that could be a name if a list says so ("Noah" in "Noah,
    Oliver og Ella skal …")."""
    while run and (_is_context(run[0], lex) or run[0].key in lex.places):
        run = run[1:]
    run = _without_leading_noun(run)
    if len(run) != 1:
        return None
    word = run[0]
    if _after_organisation(text, word, lex) or not _single_may_be_name(word, lex):
        return None
    return word


def _take_list_before(
    text: str, span: NameSpan, unsure: list[NameSpan], found: list[NameSpan]
) -> None:
    """A name ends a list ("Sohail, Farzana og Mukhtar"): the words listed before it are names."""
    taken: list[NameSpan] = []
    end = span.start
    while unsure and _LIST_GAP.fullmatch(text[unsure[-1].end : end]):
        if found and found[-1].end > unsure[-1].start:
            break
        taken.insert(0, unsure.pop())
        end = taken[0].start
    found.extend(taken)


def _split_heading(
    part: tuple[int, int], words: list[_Word], lex: NameLexicon
) -> list[tuple[int, int]]:
    pieces: list[tuple[int, int]] = []
    start = part[0]
    for k in range(part[0], part[1]):
        if words[k].key in lex.function_words or _is_context(words[k], lex):
            if k > start:
                pieces.append((start, k))
            start = k + 1
    if part[1] > start:
        pieces.append((start, part[1]))
    return pieces


def _span(text: str, run: list[_Word], reason: NameReason) -> NameSpan:
    start, end = run[0].start, run[-1].end
    return NameSpan(start, end, text[start:end], reason)


def _judge(
    text: str,
    run: list[_Word],
    lex: NameLexicon,
    *,
    context: bool,
    weak: bool,
    found: list[NameSpan],
    heading: bool,
) -> NameSpan | None:
    if found and _LIST_GAP.fullmatch(text[found[-1].end : run[0].start]):
        context, weak = True, False
    span = _by_list_or_context(text, run, lex, context=context, weak=weak)
    if heading:  # a title-case heading: only a listed name counts
        return span if span is not None and span.reason == "list" else None
    if span is not None:
        return span
    shaped = _by_shape(text, run, lex)
    return _span(text, shaped, "shape") if shaped else None


def _by_list_or_context(
    text: str, run: list[_Word], lex: NameLexicon, *, context: bool, weak: bool
) -> NameSpan | None:
    while run:
        first = run[0]
        if _is_context(first, lex):
            run, context, weak = run[1:], True, first.key in lex.function_words
        elif first.key in lex.places:
            run, context = run[1:], False
        elif (
            not context
            and _sentence_start(text, first.start)
            and not _is_first_name(first.text, lex, ambiguous=False)
            and not (
                len(run) > 1
                and (
                    _is_first_name(first.text, lex, ambiguous=True) or _is_surname(first.text, lex)
                )
            )
        ):
            run = run[1:]
        else:
            break
    if not run or any(_ends_with(w.text, lex.street_endings) for w in run):
        return None
    if all(w.key in lex.particles for w in run[:1]):
        return None
    listed = any(
        _is_first_name(w.text, lex, ambiguous=True) or _is_surname(w.text, lex) for w in run
    )
    if context and (
        listed
        or (
            not _ordinary_run(run, lex, after_role=not weak)
            # after a preposition one unlisted word must look like a name: not "til Solstrand"
            # after a preposition, one unlisted word needs a person to be talked about after it
            # ("snakket med Borghild …, hun vil"), not "avtale med Atea om levering"
            and not (
                weak
                and len(run) == 1
                and not (_single_may_be_name(run[0], lex) and _pronoun_follows(text, run[0]))
            )
        )
    ):
        return _span(text, run, "context")  # not "av Røde Kors", "med Kvinesdal Frivilligsentral"
    if context:
        return None
    if any(
        _is_first_name(w.text, lex, ambiguous=len(run) > 1 or not _sentence_start(text, w.start))
        for w in run
    ) or (len(run) > 1 and any(_is_surname(w.text, lex) for w in run)):
        return _span(text, run, "list")
    return None


def _pronoun_follows(text: str, word: _Word, *, sentences: int = 2) -> bool:
    """A personal pronoun (han, hun, ho, henne …) follows within this many sentences."""
    rest = text[word.end : word.end + _PRONOUN_REACH]
    ends = [m.end() for m in _SENTENCE_STOP.finditer(rest)]
    if len(ends) >= sentences:
        rest = rest[: ends[sentences - 1]]
    return bool(_PERSONAL_PRONOUN.search(rest))


def _is_context(word: _Word, lex: NameLexicon) -> bool:
    """A context word, or a compound that ends in one ("Spesialpedagog", "Avdelingsleder")."""
    return word.key in lex.context_words or _ends_with(word.key, lex.context_endings)


def _single_may_be_name(word: _Word, lex: NameLexicon) -> bool:
    """One unlisted word standing alone: not a definite noun, not a long compound, not a place
    by its ending ("Solstrand", "Nesbygda")."""
    longest = max(len(part) for part in word.text.split("-"))
    return not (
        _definite(word)
        or longest > _LONGEST_SINGLE
        or _ends_with(word.key, lex.place_endings)
        or _ordinary(word, lex)
    )


def _definite(word: _Word) -> bool:
    """Ends like a noun in the definite form or an agent noun: "Saken", "Møtet", "Avløser"
    (but "Per" and "Peter" are too short to be agent nouns)."""
    key = word.key
    return _ends_with(key, _DEFINITE_ENDINGS[:-1] if len(key) < 6 else _DEFINITE_ENDINGS)


def _ordinary_run(run: list[_Word], lex: NameLexicon, *, after_role: bool = False) -> bool:
    """Any word of the run is ordinary. After a role or a verb of contact, a place after the
    first word is a surname ("ringe Haldor Kinn")."""
    return any(_ordinary(w, lex, places=i == 0 or not after_role) for i, w in enumerate(run))


def _ordinary(word: _Word, lex: NameLexicon, *, places: bool = True) -> bool:
    if word.key in lex.particles:
        return False  # "da" in "Jorge da Silva"
    head, _, tail = word.text.partition("-")
    return (
        (bool(tail) and (tail[0].islower() or head.isupper()))  # "IT-brukerstøtte", "E-post"
        or word.key in lex.common_words
        or word.key in lex.function_words
        or _is_context(word, lex)
        or (places and word.key in lex.places)
        or _ends_with(word.text, lex.noun_endings)
        or _ends_with(word.text, lex.street_endings)
    )


def _after_organisation(text: str, word: _Word, lex: NameLexicon) -> bool:
    """ "Datatilsynet og Digdir": the item before in a list is an organisation, product or place."""
    previous = _PREVIOUS_LIST_ITEM.search(text, max(0, word.start - 40), word.start)
    if previous is None:
        return False
    key = previous.group(1).casefold()
    return (
        key in lex.stop_words
        or key in lex.places
        or key in lex.organisation_suffixes
        or _ends_with(key, lex.organisation_endings)
        or _ends_with(key, lex.place_endings)
    )


def _by_shape(text: str, run: list[_Word], lex: NameLexicon) -> list[_Word] | None:
    """An unlisted name: two or more capitalised words that are not ordinary words, or one
    followed by a verb ("Kolbjørn har"), a possessive ("sin") or an age ("(78)", ", f. 2014")."""
    while run and (_is_context(run[0], lex) or run[0].key in lex.places):
        run = run[1:]
    if run and _sentence_start(text, run[0].start):
        while run and run[0].key in lex.function_words:
            run = run[1:]
        if len(run) >= 3 and (
            _ordinary(run[0], lex) or (_definite(run[0]) and len(run[0].text) >= 7)
        ):
            run = run[1:]  # "Avløser Kanokwan Phromma", "Hjemmehjelpen Võ Hồng Nhung"
    run = _without_leading_noun(run)
    if not run or run[0].key in lex.particles or _ordinary_run(run, lex):
        return None
    if len(run) >= 2:
        last = run[-1]
        following = _NEXT_WORD.match(text, last.end)
        if (
            following is not None
            and following.group(1).casefold() in lex.organisation_verbs
            and not _pronoun_follows(text, last, sentences=1)
        ):
            return None  # "Lyngdal Bryggeri lanserer …"
        return run
    word = run[0]
    if _after_organisation(text, word, lex):
        return None
    if not _single_may_be_name(word, lex):
        # "Kacper sier at han …": a verb and a pronoun in the sentence outweigh the ending -er
        if not (
            word.key.endswith("er")
            and not _ordinary(word, lex)
            and len(word.text) <= _LONGEST_SINGLE
            and not _ends_with(word.key, lex.place_endings)
            and _followed_by_verb(text, word, lex)
            and _pronoun_follows(text, word, sentences=1)
        ):
            return None
        return run
    if _AFTER_PERSON.match(text, word.end) or (
        _AGE.match(text, word.end) and not _sentence_start(text, word.start)
    ):
        return run
    if _followed_by_verb(text, word, lex):
        return run
    return run if _confirmed_by_pronoun(text, word, lex) else None


def _confirmed_by_pronoun(text: str, word: _Word, lex: NameLexicon) -> bool:
    """One word inside a sentence, right after a verb or another lowercase word that is not a
    function word, and a personal pronoun after it: "fant Marjatta på gulvet. Hun …", "lovet
    Hanife at noen ringer henne"."""
    if _sentence_start(text, word.start):
        return False
    before = _PREVIOUS_WORD.search(text, max(0, word.start - 40), word.start)
    if before is None:
        return False
    previous = before.group(1)
    return (
        previous.islower()
        and previous not in lex.function_words
        and previous not in lex.product_cues
        and _pronoun_follows(text, word)
    )


def _followed_by_verb(text: str, word: _Word, lex: NameLexicon) -> bool:
    """A verb follows the word and the word is its subject: "Kolbjørn har", "Arnfinn nektet"."""
    following = _NEXT_WORD.match(text, word.end)
    if following is None:
        return False
    verb = following.group(1)
    if _SUBJECT_AFTER.match(text, following.end()):
        return False  # "Lunsj spiste hun ikke": the subject comes after the verb
    if verb.casefold() in lex.organisation_verbs:
        # "Hafslund varsler strømbrudd": what companies do, unless a person is talked about
        return _pronoun_follows(text, word, sentences=1)
    if verb.casefold() in lex.verbs_after_name:
        return True
    # a verb by its form ("nektet", "klager", "sover"), after a word that does not end in -e
    # like an adjective does ("Aktuelle saker")
    return (
        verb.islower()
        and len(verb) >= 4
        and verb.endswith(_VERB_ENDINGS)
        and verb not in lex.function_words
        and not word.key.endswith("e")
    )
