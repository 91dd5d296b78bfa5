"""The verbs of our `Action.Execute` buttons. Cards and dialogs both take them from here."""

from __future__ import annotations

from enum import StrEnum


class Verb(StrEnum):
    HELP = "kivett.help"
    ABOUT = "kivett.about"
    KI_START = "kisjekk.start"
    KI_NEXT = "kisjekk.next"
    KI_BACK = "kisjekk.back"
    KI_CONFIRM = "kisjekk.confirm"
    KI_CORRECT = "kisjekk.correct"
    KI_FEEDBACK = "kisjekk.feedback"
    TEXT_OPEN = "tekstsjekk.open"
    TEXT_RUN = "tekstsjekk.run"
    LESSONS_OVERVIEW = "lessons.overview"
    LESSON_OPEN = "lessons.open"
    LESSON_ANSWER = "lessons.answer"
    SUBSCRIBE_FORM = "subscribe.form"
    SUBSCRIBE_SAVE = "subscribe.save"
    UNSUBSCRIBE = "subscribe.cancel"
    TIP_COMPOSE = "tip.compose"
    TIP_PREVIEW = "tip.preview"
    TIP_SEND = "tip.send"
    CARD_OPEN = "laeringskort.open"
    CARD_SUBMIT = "laeringskort.submit"
    SUMMARY = "oppsummering.show"
    MY_DATA = "minedata.show"
    MY_DATA_ERASE_ASK = "minedata.erase_ask"
    MY_DATA_ERASE = "minedata.erase"
    LANGUAGE = "kivett.language"
    LANGUAGE_SET = "kivett.language_set"
    GEVINST = "gevinst.show"
    TRIAL_NEW = "utproving.new"
    TRIAL_SUBMIT = "utproving.submit"
    TRIAL_LIST = "utproving.list"
    TRIAL_REMINDERS_OFF = "utproving.reminders_off"
    TRIAL_REMINDERS_ON = "utproving.reminders_on"


PAYLOAD_VERSION = 1
"""Bumped when the data a button carries changes shape; older cards are then answered as stale."""
