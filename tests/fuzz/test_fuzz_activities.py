"""Property-based fuzzing of /api/messages: hostile card payloads to every verb, hostile messages
to every command, and malformed activities. However odd the input, the bot answers without a 5xx,
without a stack trace, without an error in its logs, and never stores a learning card that its own
validation would refuse.

Every request goes to the real app (dev mode, SQLite in a temp dir) through aiohttp's test client;
message replies go to a local Bot Connector stub (see conftest.py). One app serves all examples of
a test, so state left by one example (conversation state, subscriptions, stored cards) is part of
the next one's input too.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content_loader import load_content
from bot.core.commands import _WORDS
from bot.core.learning_cards import (
    CardDraft,
    LearningCard,
    card_options,
    personal_data,
    validate,
)
from bot.core.learning_cards.checks import check_personal_data
from cards.renderer import CARD_CONTENT_TYPE
from cards.verbs import Verb
from content import LANGUAGES
from dialogs.actions import MAX_VERB_LENGTH
from dialogs.learning_card import FORM_FIELDS
from dialogs.trials import FORM_FIELDS as TRIAL_FORM_FIELDS
from tests.fuzz.conftest import BOT_ID, CHAMPION_AAD, LEAD_AAD, FuzzApp, encode

FUZZ = settings(
    # FUZZ_EXAMPLES=2000 for a deeper run; 60 keeps the default run well under a minute
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    database=None,  # nothing written outside tests/fuzz; a failure prints its own example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTENT = load_content()
POLICY = CONTENT.policy
OPTIONS = card_options(POLICY, CONTENT.service_areas)
TIP_IDS = tuple(tip.id for tip in CONTENT.lessons["nb"].tips)
USER_AAD = "aad-user-1"

# -- values -------------------------------------------------------------------------------------

SPECIAL_STRINGS = (
    "",
    " ",
    "\t\r\n",
    "0",
    "1",
    "-1",
    "1.0",
    "1e309",
    "-0",
    "NaN",
    "Infinity",
    "٣",
    "00000000000000000000001",
    "99999999999999999999",
    "true",
    "false",
    "null",
    "None",
    "[]",
    "{}",
    '{"v": 1}',
    '{"__proto__": {"admin": true}}',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<at>KI-vett</at>",
    "{{ 7*7 }}",
    "{% raw %}",
    "${jndi:ldap://127.0.0.1/a}",
    "'; DROP TABLE learning_cards;--",
    '=HYPERLINK("http://127.0.0.1","x")',
    "\u202eevil\u202c",
    "\u200f\u200e\u061c",
    "\x00",
    "\ud800",
    "\ufeff",
    "a\u0301\u0301\u0301",
    "🧑‍💻👩🏽‍🚒",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-11-19",
    "09:00",
    "07:00",
    "16:00",
    "9",
    "25:61",
    "-1:-1",
    "99999999999999999999:00",
    "09:99999999999999999999",
    "٠٩:٠٠",
    "12017190012",
    "ola.nordmann@example.no",
)
DOMAIN_STRINGS = (
    *(task.id for task in POLICY.tasks),
    *(tool.id for tool in POLICY.tools),
    *POLICY.categories,
    *CONTENT.service_areas,
    *TIP_IDS,
    "other",
    "unsure",
    "yes",
    "no",
    "maybe",
    "task",
    "tool",
    "category",
    "more",
    "verdict",
    "subscribers",
    "channels",
    "a:conversation-1",
    "19:channel@thread.tacv2",
    *(str(n) for n in range(12)),
    *(verb.value for verb in Verb),
)
YES_NO = ("yes", "no")
DATES = ("0001-01-01", "0001-01-02", "9999-12-31", "2026-02-30", "2026-11-19", "2030-01-01", "x")
TIMES = ("07:00", "09:00", "16:00", "9", "25:61", "-1:-1", "99999999999999999999:00", "09:99999")
KEY_VALUES: dict[str, tuple[object, ...]] = {
    "scope": ("trial:t1", "unit:Sone nord", "unit:", "trial:", "team:x", ""),
    "step": ("task", "tool", "category", "more", "flags", "verdict", "TASK", ""),
    "task": tuple(task.id for task in POLICY.tasks),
    "tool": tuple(tool.id for tool in POLICY.tools),
    "category": (*POLICY.categories, "unsure"),
    "decision": (*(use.id for use in POLICY.uses), "maybe"),
    "publish": YES_NO,
    "flags": (*POLICY.red_flags, "none", "secrets,graded", "none,secrets", "astrology", ""),
    "useful": YES_NO,
    "choice": (
        *(task.id for task in POLICY.tasks),
        *(tool.id for tool in POLICY.tools),
        *POLICY.categories,
        "unsure",
        *LANGUAGES,
        "de",
    ),
    "lang": (*LANGUAGES, "xx", "", "NN"),  # the card's language, which every button carries
    "next": ("1", "2", "10", "11", "0", "999", 1, 10, -1, "01"),
    "lesson": ("1", "2", "10", "11", "0", "999", 1, 10, -1, " 3 "),
    "answer": ("a", "b", "c", "1", "2", "0", ""),
    "day": ("0", "1", "4", "5", "6", "-1", "99999999999999999999", 0),
    "time": TIMES,
    "own": ("Husk å sjekke kilden.", "12017190012", ""),
    "tip": (*TIP_IDS, "tip99", ""),
    "audience": ("subscribers", "channels", "SUBSCRIBERS", ""),
    "channels": ("a:conversation-1", "a:conversation-1,", ",", "19:x@thread.tacv2", ""),
    "date": DATES,
    "text": ("Ring meg på 912 34 567", "fnr 12017190012", "ola@example.no", " "),
    "card": ("0123456789abcdef0123456789abcdef", "0" * 32, "../../etc/passwd"),
    "title": ("Referat", ""),
    "area": CONTENT.service_areas,
    "tool_other": ("Eget verktøy", ""),
    "what": ("Oppsummerte et møte.",),
    "result": ("Et godt sammendrag.",),
    "benefit": ("1", "5", "6", "0", 3, 3.5),
    "minutes": ("0", "600", "601", "30", "-0", "1e2"),
    "per_month": ("0", "500", "501", "4", "1,0"),
    "challenges": ("",),
    "recommend": ("yes", "maybe", "no", "YES"),
    "share": ("true", "false", True, False, "TRUE", "ja"),
    "trial": ("0123456789abcdef0123456789abcdef", "0" * 32, "none", "", "../../etc/passwd"),
    "unit": ("Byggesak", ""),
    "participants": ("aad-user", "aad-user, aad-lead", "a b;c\nd", "<at>Kari</at>", ""),
    "starts": DATES,
    "ends": DATES,
    "success": ("Halvparten av svarene starter fra et utkast.", ""),
}
KI_KEYS = (
    "step",
    "task",
    "tool",
    "category",
    "decision",
    "publish",
    "flags",
    "choice",
    "useful",
)
LESSON_KEYS = ("next", "lesson", "answer", "day", "time")
TIP_KEYS = ("own", "tip", "audience", "channels", "date", "time")
CARD_KEYS = ("card", "trial", *FORM_FIELDS)  # the card id, its trial and every input of the form
TRIAL_KEYS = ("trial", *TRIAL_FORM_FIELDS)  # the trial id and every input of the form
VERB_KEYS: dict[Verb, tuple[str, ...]] = {
    **{verb: KI_KEYS for verb in Verb if verb.value.startswith("kisjekk.")},
    **{verb: LESSON_KEYS for verb in Verb if verb.value.startswith(("lessons.", "subscribe."))},
    **{verb: TIP_KEYS for verb in Verb if verb.value.startswith("tip.")},
    **{verb: CARD_KEYS for verb in Verb if verb.value.startswith(("laeringskort.", "oppsum"))},
    **{verb: TRIAL_KEYS for verb in Verb if verb.value.startswith("utproving.")},
    Verb.GEVINST: ("scope",),
    Verb.TEXT_OPEN: ("text",),
    Verb.TEXT_RUN: ("text",),
    Verb.HELP: (),
    Verb.ABOUT: (),
    Verb.LANGUAGE: ("lang",),
    Verb.LANGUAGE_SET: ("choice", "lang"),
    **{verb: () for verb in Verb if verb.value.startswith("minedata.")},  # acts on the caller only
}
DATA_KEYS = tuple(KEY_VALUES)


def _repeated(text: str, times: int) -> str:
    return text * times


huge_strings = st.builds(
    _repeated, st.text(min_size=1, max_size=4), st.integers(min_value=500, max_value=1500)
)
strings = st.one_of(
    st.sampled_from(SPECIAL_STRINGS),
    st.sampled_from(DOMAIN_STRINGS),
    st.text(max_size=40),
    huge_strings,
)
numbers = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from((0, 1, 2, 5, 600, 601, -1, 10**18)),
    st.floats(allow_nan=True, allow_infinity=True),
)
leaves = st.one_of(st.none(), st.booleans(), numbers, strings)
json_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)
hostile_values = st.one_of(leaves, leaves, json_values)

MISSING = object()
versions = st.one_of(  # mostly the version our cards send, so that most payloads get through
    st.just(1),
    st.just("1"),
    st.just(1),
    st.sampled_from((0, 2, "2", "v1", 1.0, True, None, [1], {"v": 1}, "", " 1")),
    st.just(MISSING),
)


VALID_SUBMIT: dict[str, Any] = {
    "v": 1,
    "title": "Referat fra møte",
    "area": OPTIONS.service_areas[0],
    "task": "summarise",
    "tool": "m365_copilot",
    "tool_other": "",
    "what": "Oppsummerte et langt møtereferat.",
    "result": "Et kort sammendrag som kollegene forsto.",
    "benefit": "4",
    "minutes": "30",
    "per_month": "4",
    "category": "open",
    "challenges": "",
    "recommend": "yes",
    "share": "true",
}
VALID_DATA: dict[tuple[str, ...], dict[str, Any]] = {
    KI_KEYS: {
        "step": "flags",
        "task": "write",
        "tool": "chatgpt",
        "category": "open",
        "decision": "none",
        "publish": "no",
        "flags": "none",
        "useful": "yes",
        "choice": "open",
    },
    LESSON_KEYS: {"lesson": "1", "next": "2", "answer": "a", "day": "0", "time": "09:00"},
    TIP_KEYS: {"own": "Husk kilden.", "audience": "subscribers", "date": "", "time": ""},
    CARD_KEYS: {name: value for name, value in VALID_SUBMIT.items() if name != "v"},
    TRIAL_KEYS: {
        "trial": "0123456789abcdef0123456789abcdef",
        "title": "Utkast til svarbrev",
        "task": "write",
        "area": OPTIONS.service_areas[0],
        "unit": "Byggesak",
        "tool": "copilot_chat",
        "tool_other": "",
        "category": "open",
        "participants": "",
        "starts": "2026-11-19",
        "ends": "2030-01-01",
        "success": "Halvparten av svarene starter fra et utkast.",
    },
    ("text",): {"text": "Kan jeg bruke KI til referater?"},
    ("lang",): {"lang": "nb"},
    ("choice", "lang"): {"choice": "nn", "lang": "nb"},
    (): {},
}


@st.composite
def card_data(draw: st.DrawFn, verb: Verb | None = None) -> dict[str, Any]:
    """The `data` of an Action.Execute: what our card sends for this verb with a few fields
    replaced or removed, or a random set of keys; hostile values, strangers, some version."""
    own_keys = VERB_KEYS[verb] if verb is not None else DATA_KEYS
    data: dict[str, Any] = {}
    if draw(st.booleans()):
        data.update(VALID_DATA.get(own_keys, {}))
        keys = own_keys or DATA_KEYS
        for key in draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)):
            if draw(st.integers(min_value=0, max_value=4)) == 0:
                data.pop(key, None)
            else:
                data[key] = draw(st.one_of(st.sampled_from(KEY_VALUES[key]), hostile_values))
    else:
        any_keys = st.sampled_from(own_keys or DATA_KEYS)
        for key in draw(st.lists(any_keys, unique=True, max_size=9)):
            data[key] = draw(st.one_of(st.sampled_from(KEY_VALUES[key]), hostile_values))
    data.update(
        draw(
            st.dictionaries(
                st.one_of(st.sampled_from(DATA_KEYS), st.text(max_size=12)),
                hostile_values,
                max_size=2,
            )
        )
    )
    version = draw(versions)
    if version is MISSING:
        data.pop("v", None)
    else:
        data["v"] = version
    return data


# -- activities ---------------------------------------------------------------------------------

USER = {"id": "29:user-1", "name": "Kari", "aadObjectId": USER_AAD}
CHAMPION = {"id": "29:champion", "name": "Per", "aadObjectId": CHAMPION_AAD}
LEAD = {"id": "29:lead", "name": "Lise", "aadObjectId": LEAD_AAD}
senders = st.one_of(
    st.just(USER),
    st.just(CHAMPION),
    st.just(LEAD),
    st.sampled_from(
        (
            {"id": "29:no-aad"},
            {"id": ""},
            {},
            {"id": "29:x", "aadObjectId": ""},
            {"id": "29:x", "name": "<at>KI-vett</at>", "role": "bot"},
        )
    ),
)
conversation_types = st.one_of(
    st.sampled_from(("personal", "groupChat", "channel", "", "PERSONAL", "unknownType")),
    st.text(max_size=20),
)
locales = st.one_of(
    st.sampled_from(("nb-NO", "nn-NO", "en-US", "en", "nb", "no", "nn_NO", "", "zz-ZZ", "ar-SA")),
    st.text(max_size=20),
    huge_strings,
    st.none(),
)
hostile_locales = st.one_of(locales, st.integers(), st.booleans(), st.lists(st.integers()))


def _conversation(conversation_type: str, is_group: object) -> dict[str, Any]:
    return {
        "id": "a:conversation-1",
        "conversationType": conversation_type,
        "tenantId": "tenant-1",
        "isGroup": is_group,
    }


conversations = st.builds(_conversation, conversation_types, st.one_of(st.none(), st.booleans()))


def is_invoke_response_with_card(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and body.get("statusCode") == 200
        and body.get("type") == CARD_CONTENT_TYPE
        and isinstance(body.get("value"), dict)
        and body["value"].get("type") == "AdaptiveCard"
        and isinstance(body["value"].get("body"), list)
    )


async def send_invoke(fuzz_app: FuzzApp, activity: dict[str, Any]) -> Any:
    """Send an adaptiveCard/action invoke; it must be answered with a card, quietly."""
    reply = await fuzz_app.post(encode(activity))
    assert reply.status == 200, reply
    body = reply.json()
    assert is_invoke_response_with_card(body), body
    assert fuzz_app.failures() == []
    assert fuzz_app.stub.posts == [], "a card action updates the card; it sends no messages"
    return body


def invoke(
    fuzz_app: FuzzApp, value: Any, *, name: Any = "adaptiveCard/action", **changes: Any
) -> dict[str, Any]:
    changes.setdefault("id", "f:invoke-1")
    return fuzz_app.activity(type="invoke", name=name, value=value, text=None, **changes)


# -- 1. hostile card payloads to every verb -----------------------------------------------------


@pytest.mark.parametrize("verb", list(Verb), ids=str)
@FUZZ
@given(
    choices=st.data(),
    sender=senders,
    conversation=conversations,
    locale=locales,
)
async def test_every_verb_answers_hostile_card_data_with_a_card_and_no_error(
    fuzz_app: FuzzApp,
    verb: Verb,
    choices: st.DataObject,
    sender: dict[str, Any],
    conversation: dict[str, Any],
    locale: str | None,
) -> None:
    fuzz_app.start_example()
    data = choices.draw(card_data(verb), label="data")
    value = {"action": {"type": "Action.Execute", "verb": verb.value, "data": data}}
    activity = invoke(fuzz_app, value, conversation=conversation, locale=locale, **{"from": sender})
    await send_invoke(fuzz_app, activity)
    await assert_stored_cards_are_valid(fuzz_app)


def _action(kind: Any, verb: Any, data: Any) -> Any:
    return {"type": kind, "verb": verb, "data": data}


verbs_of_wrong_shape = st.one_of(
    st.sampled_from(
        (
            "",
            " ",
            "kivett.help ",
            "KIVETT.HELP",
            "kivett.help\x00",
            "x" * (MAX_VERB_LENGTH + 1),
            Verb.HELP.value + "." * MAX_VERB_LENGTH,
        )
    ),
    st.text(max_size=80),
    huge_strings,
    st.integers(),
    st.none(),
    st.booleans(),
    st.lists(st.sampled_from([v.value for v in Verb]), max_size=2),
)
malformed_actions = st.one_of(
    json_values,
    st.builds(
        _action,
        st.one_of(
            st.sampled_from(("Action.Submit", "Action.OpenUrl", "action.execute", "", "x")),
            hostile_values,
        ),
        st.sampled_from([v.value for v in Verb]),
        card_data(),
    ),
    st.builds(_action, st.just("Action.Execute"), verbs_of_wrong_shape, card_data()),
    st.builds(
        _action, st.just("Action.Execute"), st.sampled_from([v.value for v in Verb]), json_values
    ),
)
malformed_values = st.one_of(
    json_values,
    st.builds(lambda action: {"action": action}, malformed_actions),
    st.builds(
        lambda action, trigger: {"action": action, "trigger": trigger},
        malformed_actions,
        hostile_values,
    ),
)


@FUZZ
@given(value=malformed_values, locale=locales)
async def test_malformed_invoke_values_are_answered_with_a_card_and_no_error(
    fuzz_app: FuzzApp, value: Any, locale: str | None
) -> None:
    fuzz_app.start_example()
    await send_invoke(fuzz_app, invoke(fuzz_app, value, locale=locale))


@FUZZ
@given(
    name=st.one_of(
        st.sampled_from(
            (
                "task/fetch",
                "task/submit",
                "composeExtension/query",
                "signin/verifyState",
                "adaptiveCard/Action",
                "adaptiveCard/action ",
                "fileConsent/invoke",
                "actionableMessage/executeAction",
                "healthCheck",
                "",
            )
        ),
        st.text(max_size=40),
        huge_strings,
    ),
    value=hostile_values,
)
async def test_invokes_with_other_names_are_answered_without_error(
    fuzz_app: FuzzApp, name: str, value: Any
) -> None:
    fuzz_app.start_example()
    reply = await fuzz_app.post(encode(invoke(fuzz_app, value, name=name)))
    assert reply.status in (200, 400, 404, 501), reply
    assert fuzz_app.failures() == []


# -- 1b. læringskort: a hostile submit never stores an invalid card -----------------------------

SUBMIT_FIELDS = tuple(name for name in VALID_SUBMIT if name != "v")
OTHER_AUTHOR = "aad-someone-else"
SEEDED_ID = "0123456789abcdef0123456789abcdef"


def _seed_card() -> LearningCard:
    checked = validate(VALID_SUBMIT, OPTIONS)
    assert isinstance(checked, CardDraft)
    return LearningCard(
        card_id=SEEDED_ID,
        submitted_at=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
        author=OTHER_AUTHOR,
        language="nb",
        draft=checked,
        follow_up=(),
    )


SEEDED = _seed_card()

field_values = st.one_of(
    hostile_values,
    st.sampled_from(DOMAIN_STRINGS),
    st.integers(min_value=-5, max_value=700).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(min_size=1, max_size=130),
)
card_ids = st.one_of(
    st.just(SEEDED_ID),
    st.just(SEEDED_ID.upper()),
    st.uuids().map(lambda u: u.hex),
    strings,
    st.integers(),
)


@st.composite
def submits(draw: st.DrawFn) -> dict[str, Any]:
    """A valid card with some fields replaced, removed or doubled up with strangers."""
    data = dict(VALID_SUBMIT)
    for name in draw(st.lists(st.sampled_from(SUBMIT_FIELDS), unique=True, max_size=5)):
        if draw(st.booleans()):
            data[name] = draw(field_values)
        else:
            del data[name]
    data["card"] = draw(card_ids)
    data.update(draw(st.dictionaries(st.text(max_size=8), hostile_values, max_size=2)))
    data["v"] = draw(st.sampled_from((1, "1")))
    return data


def as_form(draft: CardDraft) -> dict[str, object]:
    """A stored draft as the form would send it back."""
    return {
        "title": draft.title,
        "area": draft.service_area,
        "task": draft.task,
        "tool": draft.tool,
        "tool_other": draft.tool_other,
        "what": draft.what,
        "result": draft.result,
        "benefit": draft.benefit,
        "minutes": draft.minutes_saved,
        "per_month": draft.times_per_month,
        "category": draft.category,
        "challenges": draft.challenges,
        "recommend": draft.recommend,
        "share": draft.share,
    }


async def assert_stored_cards_are_valid(fuzz_app: FuzzApp) -> None:
    for stored in await fuzz_app.services.learning_store.all():
        draft = stored.card.draft
        assert validate(as_form(draft), OPTIONS) == draft, stored
        assert personal_data(draft) == (), "a stored card holds personal data"


@FUZZ
@given(data=submits(), sender=senders)
async def test_hostile_submit_never_stores_a_card_that_fails_validation(
    fuzz_app: FuzzApp, data: dict[str, Any], sender: dict[str, Any]
) -> None:
    fuzz_app.start_example()
    store = fuzz_app.services.learning_store
    await store.add(SEEDED)  # someone else's card, whose id the forged payloads use
    before = {stored.card.card_id for stored in await store.all()}
    value = {"action": {"type": "Action.Execute", "verb": Verb.CARD_SUBMIT.value, "data": data}}
    await send_invoke(fuzz_app, invoke(fuzz_app, value, **{"from": sender}))

    after = await store.all()
    await assert_stored_cards_are_valid(fuzz_app)
    seeded = await store.get(SEEDED_ID)
    assert seeded is not None
    assert seeded.card == SEEDED, "a forged card id changed someone else's card"
    added = [stored.card for stored in after if stored.card.card_id not in before]
    checked = validate(data, OPTIONS)
    # a possible name (the bot runs with the name lexicon) also sends the card back unsaved
    clean = (
        isinstance(checked, CardDraft) and not check_personal_data(checked, CONTENT.names).blocks()
    )
    if not clean:
        assert added == [], "a card that fails validation or holds personal data was stored"
    elif len(added) == 1:
        assert added[0].draft == checked
        assert added[0].author == str(sender.get("aadObjectId") or sender.get("id") or "")
    else:
        # a valid card is stored once: as a new card, or it was this author's earlier submit
        assert added == []
        card_id = data.get("card")
        assert isinstance(card_id, str), data
        earlier = await store.get(card_id)
        assert earlier is not None
        assert earlier.card.author == str(sender.get("aadObjectId") or sender.get("id") or "")


# -- 2. hostile messages and commands -----------------------------------------------------------

COMMAND_WORDS = sorted(_WORDS)
AFFIXES = (
    "",
    " ",
    "  ",
    "!",
    "?",
    "...",
    "\t",
    "\n",
    "\u200b",
    "\u200f",
    "\u202e",
    "\ufeff",
    "\x00",
    "\x07",
    "<at>KI-vett</at> ",
    "<at>KI-vett</at>",
    "<at></at>",
    "<at>",
    "</at>",
    "<b>",
    "@KI-vett ",
    "😀",
    "ﬁ",
)


def _decorate(word: str, case: str, prefix: str, suffix: str) -> str:
    cased = {"lower": word, "upper": word.upper(), "title": word.title(), "same": word}[case]
    return f"{prefix}{cased}{suffix}"


command_texts = st.builds(
    _decorate,
    st.sampled_from(COMMAND_WORDS),
    st.sampled_from(("lower", "upper", "title", "same")),
    st.one_of(st.sampled_from(AFFIXES), st.text(max_size=6)),
    st.one_of(st.sampled_from(AFFIXES), st.text(max_size=6)),
)
free_texts = st.one_of(
    st.text(max_size=200),
    st.sampled_from(SPECIAL_STRINGS),
    huge_strings,
    st.builds(
        lambda words: " ".join(words),
        st.lists(
            st.sampled_from((*DOMAIN_STRINGS, *COMMAND_WORDS, "kan", "jeg", "bruke")), max_size=12
        ),
    ),
    st.text(alphabet=st.characters(categories=("Cc", "Cf", "Zs", "Mn")), max_size=50),
)
message_texts = st.one_of(command_texts, free_texts, st.none())

mention_entities = st.builds(
    lambda text, mentioned: {"type": "mention", "text": text, "mentioned": mentioned},
    st.one_of(st.sampled_from(("<at>KI-vett</at>", "<at>", "")), st.text(max_size=10)),
    st.one_of(
        st.just({"id": BOT_ID, "name": "KI-vett"}),
        st.just({"id": "29:someone"}),
        st.just({}),
    ),
)
junk_entities = st.dictionaries(
    st.sampled_from(("type", "text", "mentioned", "locale", "country", "platform", "@type")),
    json_values,
    max_size=4,
)
entity_lists = st.one_of(
    st.none(), st.lists(st.one_of(mention_entities, junk_entities), max_size=4)
)


@FUZZ
@given(
    text=message_texts,
    locale=locales,
    sender=senders,
    conversation=conversations,
    entities=entity_lists,
    text_format=st.sampled_from(("plain", "markdown", "xml", None, "html")),
)
async def test_every_message_gets_exactly_one_reply_card_and_no_error(
    fuzz_app: FuzzApp,
    text: str | None,
    locale: str | None,
    sender: dict[str, Any],
    conversation: dict[str, Any],
    entities: list[dict[str, Any]] | None,
    text_format: str | None,
) -> None:
    fuzz_app.start_example()
    activity = fuzz_app.activity(
        text=text,
        locale=locale,
        conversation=conversation,
        entities=entities,
        textFormat=text_format,
        **{"from": sender},
    )
    reply = await fuzz_app.post(encode(activity))

    assert reply.status == 201, reply
    assert fuzz_app.failures() == []
    cards = fuzz_app.stub.cards()
    assert len(cards) == 1, fuzz_app.stub.posts
    assert cards[0]["type"] == "AdaptiveCard"
    assert [post["path"] for post in fuzz_app.stub.posts] == [
        "/v3/conversations/a:conversation-1/activities/1700000000000"
    ]


@FUZZ
@given(locale=hostile_locales, kind=st.sampled_from(("message", "invoke")))
async def test_a_locale_of_any_json_type_is_answered_without_error(
    fuzz_app: FuzzApp, locale: Any, kind: str
) -> None:
    fuzz_app.start_example()
    if kind == "message":
        reply = await fuzz_app.post(encode(fuzz_app.activity(locale=locale)))
        assert reply.status in (201, 400), reply
    else:
        value = {"action": {"type": "Action.Execute", "verb": Verb.HELP.value, "data": {"v": 1}}}
        reply = await fuzz_app.post(encode(invoke(fuzz_app, value, locale=locale)))
        assert reply.status in (200, 400), reply
        if reply.status == 200:
            assert is_invoke_response_with_card(reply.json()), reply
    assert fuzz_app.failures() == []


# -- 3. malformed activities at the HTTP level --------------------------------------------------

ACTIVITY_TYPES = (
    "message",
    "invoke",
    "conversationUpdate",
    "installationUpdate",
    "messageReaction",
    "event",
    "typing",
    "endOfConversation",
    "messageUpdate",
    "messageDelete",
    "trace",
    "handoff",
    "command",
    "unknownType",
    "",
)


@st.composite
def odd_activities(draw: st.DrawFn, fuzz_app: FuzzApp) -> Any:
    """A message activity with some fields replaced by junk or removed."""
    activity: dict[str, Any] = fuzz_app.activity()
    replacements = {
        "type": st.one_of(st.sampled_from(ACTIVITY_TYPES), hostile_values),
        "serviceUrl": st.one_of(
            st.sampled_from(("", "ftp://x", "https://", "javascript:alert(1)", "//x")),
            hostile_values,
        ),
        "channelId": st.one_of(
            st.sampled_from(("msteams", "webchat", "emulator", "directline", "")), hostile_values
        ),
        "id": st.one_of(huge_strings, hostile_values),
        "name": st.one_of(st.sampled_from(("adaptiveCard/action", "")), hostile_values),
        "action": st.sampled_from(("add", "remove", "add-upgrade", "x")),
        "membersAdded": hostile_values,
        "membersRemoved": hostile_values,
        "from": hostile_values,
        "recipient": hostile_values,
        "conversation": hostile_values,
        "value": hostile_values,
        "entities": hostile_values,
        "attachments": hostile_values,
        "channelData": hostile_values,
        "timestamp": hostile_values,
        "replyToId": hostile_values,
        "text": hostile_values,
    }
    for name in draw(st.lists(st.sampled_from(sorted(replacements)), unique=True, max_size=5)):
        if draw(st.integers(min_value=0, max_value=3)) == 0:
            activity.pop(name, None)
        else:
            activity[name] = draw(replacements[name])
    return activity


@FUZZ
@given(data=st.data())
async def test_malformed_activities_never_get_a_5xx_or_a_stack_trace(
    fuzz_app: FuzzApp, data: st.DataObject
) -> None:
    fuzz_app.start_example()
    body = data.draw(st.one_of(odd_activities(fuzz_app), json_values, odd_activities(fuzz_app)))
    await fuzz_app.post(encode(body))
    if isinstance(body, dict) and body.get("serviceUrl") == fuzz_app.service_url:
        # replies can reach the connector: nothing may fail (elsewhere an ERROR says that the
        # apology could not be delivered, which is what that log line is for)
        assert fuzz_app.failures() == []


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        st.text(max_size=200).map(lambda text: text.encode("utf-8")),
        st.sampled_from(
            (
                b"",
                b"null",
                b"[]",
                b"{",
                b'{"type": "message"',
                b'{"type": NaN}',
                b"\xff\xfe{}",
                b'{"type": "message", "serviceUrl": "http://x", "text": "\\ud800"}',
                b"1" * 5000,
                b'{"a":' * 2000,
                b"[" * 60000 + b"]" * 60000,
                b'{"a":' * 30000 + b"1" + b"}" * 30000,
            )
        ),
    )
)
async def test_bodies_that_are_not_json_activities_are_refused_with_a_4xx(
    fuzz_app: FuzzApp, raw: bytes
) -> None:
    fuzz_app.start_example()
    reply = await fuzz_app.post(raw)
    assert fuzz_app.failures() == []
    if not passes_as_an_activity(raw):
        assert 400 <= reply.status < 500, reply
        assert fuzz_app.stub.posts == []


def passes_as_an_activity(raw: bytes) -> bool:
    """What the guard lets through: a JSON object with a type and an http(s) serviceUrl (random
    bytes can be one: the fuzzer once made `{"type":" ","serviceUrl":"http://","":""}`)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return False
    if not isinstance(body, dict):
        return False
    kind, service_url = body.get("type"), body.get("serviceUrl")
    return (
        isinstance(kind, str)
        and bool(kind)
        and isinstance(service_url, str)
        and service_url.startswith(("http://", "https://"))
    )


# -- found by fuzzing (and by reading what the fuzzer reached): kept as fixed examples ----------

FOUND_INVOKES = {
    "subscribe-time-overflow": (USER, "subscribe.save", {"day": "0", "time": "9" * 20 + ":00"}),
    "tip-time-overflow": (CHAMPION, "tip.preview", {"own": "x", "time": "9" * 20 + ":00"}),
    "tip-year-one": (CHAMPION, "tip.preview", {"own": "x", "date": "0001-01-01", "time": "00:00"}),
}


@pytest.mark.parametrize("case", sorted(FOUND_INVOKES))
async def test_card_data_the_fuzzer_found_is_answered_without_error(
    fuzz_app: FuzzApp, case: str
) -> None:
    sender, verb, data = FOUND_INVOKES[case]
    value = {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": 1, **data}}}
    await send_invoke(fuzz_app, invoke(fuzz_app, value, **{"from": sender}))


async def test_a_mention_entity_without_mentioned_id_is_answered_without_error(
    fuzz_app: FuzzApp,
) -> None:
    entities = [{"type": "mention", "text": "", "mentioned": {}}]
    reply = await fuzz_app.post(encode(fuzz_app.activity(text=None, entities=entities)))
    assert reply.status == 201, reply
    assert fuzz_app.failures() == []
    assert len(fuzz_app.stub.cards()) == 1


async def test_a_message_without_a_conversation_is_refused_or_answered_without_error(
    fuzz_app: FuzzApp,
) -> None:
    body = {"type": "message", "serviceUrl": fuzz_app.service_url, "text": "hjelp"}
    await fuzz_app.post(encode(body))
    assert fuzz_app.failures() == []


async def test_deeply_nested_json_is_refused_with_a_400(fuzz_app: FuzzApp) -> None:
    reply = await fuzz_app.post(b"[" * 60000 + b"]" * 60000)
    assert reply.status == 400, reply
