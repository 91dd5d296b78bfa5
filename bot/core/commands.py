"""Turn what an employee typed into a typed command.

One small function; no substring tests scattered through handlers.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from bot.core.language import Written, written_language


class CommandName(StrEnum):
    HELP = "help"
    ABOUT = "about"
    KI_CHECK = "ki_check"
    LESSONS = "lessons"
    WEEKLY_TIP = "weekly_tip"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"
    TEXT_CHECK = "text_check"
    LEARNING_CARD = "learning_card"
    SUMMARY = "summary"
    MY_DATA = "my_data"
    LANGUAGE = "language"
    TRIAL_NEW = "trial_new"
    TRIALS = "trials"
    GEVINST = "gevinst"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Command:
    name: CommandName
    argument: str = ""
    """For `språk nynorsk` / `language english`: the language asked for ("nb", "nn", "en")."""
    written: Written | None = None
    """The language the message is written in, when its words tell (a Norwegian command word, an
    English question): the router answers a Norwegian message in the målform."""


# Words are compared after normalisation (lower case, NFC, punctuation and extra spaces removed).
_WORDS: dict[str, CommandName] = {
    "hjelp": CommandName.HELP,
    "help": CommandName.HELP,
    "meny": CommandName.HELP,
    "menu": CommandName.HELP,
    "start": CommandName.HELP,
    "om": CommandName.ABOUT,
    "om ki-vett": CommandName.ABOUT,
    "about": CommandName.ABOUT,
    "ki-sjekk": CommandName.KI_CHECK,
    "ki-sjekken": CommandName.KI_CHECK,
    "ki sjekk": CommandName.KI_CHECK,
    "kisjekk": CommandName.KI_CHECK,
    "ai check": CommandName.KI_CHECK,
    "ai-check": CommandName.KI_CHECK,
    "sjekk tekst": CommandName.TEXT_CHECK,
    "sjekk teksten": CommandName.TEXT_CHECK,
    "tekstsjekk": CommandName.TEXT_CHECK,
    "tekstsjekken": CommandName.TEXT_CHECK,
    "check text": CommandName.TEXT_CHECK,
    "ukens tips": CommandName.WEEKLY_TIP,
    "vekas tips": CommandName.WEEKLY_TIP,
    "veka sitt tips": CommandName.WEEKLY_TIP,
    "weekly tip": CommandName.WEEKLY_TIP,
    "vettregler": CommandName.LESSONS,
    "vettreglene": CommandName.LESSONS,
    "vettreglar": CommandName.LESSONS,
    "vettreglane": CommandName.LESSONS,
    "leksjoner": CommandName.LESSONS,
    "leksjonar": CommandName.LESSONS,
    "lessons": CommandName.LESSONS,
    "abonner": CommandName.SUBSCRIBE,
    "abonnér": CommandName.SUBSCRIBE,
    "subscribe": CommandName.SUBSCRIBE,
    "avslutt": CommandName.UNSUBSCRIBE,
    "avslutt abonnement": CommandName.UNSUBSCRIBE,
    "avslutt abonnementet": CommandName.UNSUBSCRIBE,
    "stopp": CommandName.UNSUBSCRIBE,
    "unsubscribe": CommandName.UNSUBSCRIBE,
    "text check": CommandName.TEXT_CHECK,
    "læringskort": CommandName.LEARNING_CARD,
    "læringskortet": CommandName.LEARNING_CARD,
    "laeringskort": CommandName.LEARNING_CARD,
    "nytt læringskort": CommandName.LEARNING_CARD,
    "nytt læringskortet": CommandName.LEARNING_CARD,
    "lærekort": CommandName.LEARNING_CARD,
    "learning card": CommandName.LEARNING_CARD,
    "learning cards": CommandName.LEARNING_CARD,
    "oppsummering": CommandName.SUMMARY,
    "oppsummeringen": CommandName.SUMMARY,
    "samandrag": CommandName.SUMMARY,
    "samandraget": CommandName.SUMMARY,
    "summary": CommandName.SUMMARY,
    "mine data": CommandName.MY_DATA,
    "mine opplysninger": CommandName.MY_DATA,
    "mine personopplysninger": CommandName.MY_DATA,
    "personvern": CommandName.MY_DATA,
    "dataa mine": CommandName.MY_DATA,
    "my data": CommandName.MY_DATA,
    "privacy": CommandName.MY_DATA,
    "slett mine data": CommandName.MY_DATA,
    "delete my data": CommandName.MY_DATA,
    "språk": CommandName.LANGUAGE,
    "språket": CommandName.LANGUAGE,
    "sprak": CommandName.LANGUAGE,
    "målform": CommandName.LANGUAGE,
    "language": CommandName.LANGUAGE,
    "gevinst": CommandName.GEVINST,
    "gevinster": CommandName.GEVINST,
    "gevinstar": CommandName.GEVINST,
    "gevinstverksted": CommandName.GEVINST,
    "gevinstverkstedet": CommandName.GEVINST,
    "gevinstverkstad": CommandName.GEVINST,
    "gevinstverkstaden": CommandName.GEVINST,
    "benefits": CommandName.GEVINST,
    "benefits workshop": CommandName.GEVINST,
    "utprøving": CommandName.TRIAL_NEW,
    "ny utprøving": CommandName.TRIAL_NEW,
    "utproving": CommandName.TRIAL_NEW,
    "ny utproving": CommandName.TRIAL_NEW,
    "registrer utprøving": CommandName.TRIAL_NEW,
    "trial": CommandName.TRIAL_NEW,
    "new trial": CommandName.TRIAL_NEW,
    "utprøvinger": CommandName.TRIALS,
    "utprøvingene": CommandName.TRIALS,
    "utprøvingar": CommandName.TRIALS,
    "utprøvingane": CommandName.TRIALS,
    "utprovinger": CommandName.TRIALS,
    "mine utprøvinger": CommandName.TRIALS,
    "mine utprøvingar": CommandName.TRIALS,
    "trials": CommandName.TRIALS,
    "my trials": CommandName.TRIALS,
}

_ENGLISH_WORDS = frozenset(
    {
        "help",
        "menu",
        "about",
        "ai check",
        "ai-check",
        "check text",
        "text check",
        "weekly tip",
        "lessons",
        "subscribe",
        "unsubscribe",
        "learning card",
        "learning cards",
        "summary",
        "my data",
        "privacy",
        "delete my data",
        "language",
        "benefits",
        "benefits workshop",
        "trial",
        "new trial",
        "trials",
        "my trials",
    }
)
"""Command words that are English; every other word in `_WORDS` is Norwegian, except these:"""
_EITHER_LANGUAGE = frozenset({"start"})

# `språk nynorsk`, `language english`, or just the name of the language.
_LANGUAGE_NAMES: dict[str, str] = {
    "bokmål": "nb",
    "bokmal": "nb",
    "nb": "nb",
    "nynorsk": "nn",
    "nn": "nn",
    "english": "en",
    "engelsk": "en",
    "en": "en",
}
_BARE_LANGUAGE_NAMES = frozenset({"bokmål", "bokmal", "nynorsk", "english", "engelsk"})

_TRIM = re.compile(r"^[\s.!,;:?]+|[\s.!,;:?]+$")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower-case, NFC-normalised text with outer punctuation and repeated spaces removed."""
    folded = unicodedata.normalize("NFC", text).casefold()
    return _SPACES.sub(" ", _TRIM.sub("", folded))


def parse_command(text: str | None) -> Command:
    """Map a message's text to a command; anything we do not know is UNKNOWN (never an error)."""
    if not text:
        return Command(CommandName.UNKNOWN)
    if text.strip() == "?":
        return Command(CommandName.HELP)
    words = normalise(text)
    name = _WORDS.get(words)
    if name is not None:
        return Command(name, written=_command_language(words))
    language = _language_request(words)
    if language is not None:
        return language
    return Command(CommandName.UNKNOWN, written=written_language(text))


def _command_language(words: str) -> Written | None:
    if words in _EITHER_LANGUAGE:
        return None
    return "en" if words in _ENGLISH_WORDS else "no"


def _language_request(words: str) -> Command | None:
    """`språk nynorsk`, `language: english`, `nynorsk`: the language command with its choice."""
    if words in _BARE_LANGUAGE_NAMES:
        return Command(CommandName.LANGUAGE, _LANGUAGE_NAMES[words], written=None)
    head, _, rest = words.partition(" ")
    head = head.rstrip(":")
    choice = _LANGUAGE_NAMES.get(rest.strip(" :"))
    if _WORDS.get(head) is CommandName.LANGUAGE and choice is not None:
        return Command(CommandName.LANGUAGE, choice, written=_command_language(head))
    return None
