"""Utprøvinger over TestAdapter: a champion registers a trial through the form (checked, run
through the KI-sjekk, stored once), people see the trials they take part in, and a learning card is
filed for one of them (and only for one of theirs)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import ChannelAccount

from bot.content_loader import load_content
from bot.core.learning_cards import DeliveryState
from bot.core.policy import Answers, assess
from bot.core.trials import StoredTrial, Trial, TrialDraft
from bot.ports import LearningCardStore, TrialStore
from cards.renderer import CardRenderer
from cards.verbs import Verb
from cards.views import Choice, HelpView
from content import LANGUAGES, load_catalog
from dialogs.learning_card import LearningCardDialog
from dialogs.trials import TrialDialog
from tests.card_tree import actions
from tests.flows.conftest import (
    CHAMPION,
    LEAD,
    NOW,
    USER,
    Harness,
    cards_sent,
    invoke,
    say,
    title_of,
)
from tests.flows.test_ki_check_flow import button, press, texts_in
from tests.flows.test_learning_flow import GOOD as GOOD_CARD
from tests.flows.test_learning_flow import inputs_of
from tests.node import adaptive_card_findings

NB = load_catalog().texts("nb")
EN = load_catalog().texts("en")
CONTENT = load_content()

# NOW is Wednesday 18 November 2026
GOOD = {
    "title": "Utkast til svar på byggesøknader",
    "task": "write",
    "area": "technical",
    "unit": "Byggesak",
    "tool": "copilot_chat",
    "tool_other": "",
    "category": "open",
    "participants": f"{USER.aad_object_id}\n{LEAD.aad_object_id}",
    "starts": "2026-11-16",
    "ends": "2026-12-18",
    "success": "Halvparten av svarbrevene starter fra et utkast.",
}
RED = {**GOOD, "tool": "chatgpt", "category": "restricted"}  # personal data in an open tool
STRANGER = ChannelAccount(id="29:stranger", name="Siri Ser", aad_object_id="aad-stranger")


@dataclass
class Env:
    """The flow harness (real router, flows, cards and SQLite stores) and its trial store."""

    harness: Harness

    def adapter(self, user: ChannelAccount) -> TestAdapter:
        return self.harness.adapter(conversation_id=f"a:{user.id}", user=user)

    @property
    def trials(self) -> TrialStore:
        return self.harness.stores.trials

    @property
    def learning_store(self) -> LearningCardStore:
        return self.harness.learning_store


@pytest.fixture
def env(harness: Harness) -> Env:
    return Env(harness)


def someone_elses(trial: Trial, **changes: Any) -> Trial:
    """Another champion's trial like `trial` (a fresh id), with `changes` to its draft."""
    return replace(
        trial,
        trial_id=uuid.uuid4().hex,
        owner="aad-else",
        draft=replace(trial.draft, **changes),
    )


async def open_form(adapter: TestAdapter, word: str = "ny utprøving") -> dict[str, Any]:
    await say(adapter, word)
    [card] = cards_sent(adapter)
    return card


async def register(env: Env, data: dict[str, str] | None = None) -> dict[str, Any]:
    adapter = env.adapter(CHAMPION)
    form = await open_form(adapter)
    return await press(env.harness, adapter, form, Verb.TRIAL_SUBMIT, **(data or GOOD))


async def only_trial(env: Env) -> StoredTrial:
    [stored] = await env.trials.all()
    return stored


async def test_a_champion_registers_a_trial_and_sees_its_green_verdict_and_what_comes_next(
    env: Env,
) -> None:
    adapter = env.adapter(CHAMPION)
    form = await open_form(adapter)
    assert title_of(form) == NB("trials.form_title")
    fields = inputs_of(form)
    assert set(GOOD) <= set(fields)
    assert fields["starts"]["type"] == fields["ends"]["type"] == "Input.Date"
    assert {c["value"] for c in fields["tool"]["choices"]} >= {"copilot_chat", "other"}
    saved = await press(env.harness, adapter, form, Verb.TRIAL_SUBMIT, **GOOD)

    stored = await only_trial(env)
    trial = stored.trial
    assert stored.state is DeliveryState.PENDING
    assert trial.owner == CHAMPION.aad_object_id
    assert trial.draft.participants == ("aad-champion", "aad-user", "aad-lead")
    assert trial.draft.starts == date(2026, 11, 16)
    assert (trial.verdict, trial.risk_level) == ("green", "minimal")
    assert trial.trial_id == button(form, Verb.TRIAL_SUBMIT)["data"]["trial"]
    shown = texts_in(saved)
    assert title_of(saved).endswith(NB("trials.saved_title"))
    assert GOOD["title"] in shown
    assert any(NB("trials.verdict.green") in line for line in shown)
    assert f"• {NB('condition.check_answers')}" in shown
    assert NB("trials.participants_count.other", count=3) in shown
    assert f"• {NB('trials.next.cards', days=14)}" in shown
    # the card's next step: a learning card for this very trial
    assert button(saved, Verb.CARD_OPEN)["data"]["trial"] == trial.trial_id
    assert adaptive_card_findings([form, saved]) == [[], []]


async def test_another_tool_is_checked_as_an_unknown_tool_and_registered_yellow_with_conditions(
    env: Env,
) -> None:
    saved = await register(env, {**GOOD, "tool": "other", "tool_other": "Skrivehjelpen"})
    trial = (await only_trial(env)).trial
    assert trial.verdict == "yellow"
    assert trial.draft.tool_other == "Skrivehjelpen"
    shown = " ".join(texts_in(saved))
    assert NB("trials.verdict.yellow") in shown
    assert "Skrivehjelpen" in shown
    email = CONTENT.policy.contacts["information_security"].email
    assert NB("next.contact_infosec", email=email) in shown
    assert adaptive_card_findings([saved]) == [[]]


async def test_problems_come_back_field_by_field_with_what_was_written_and_nothing_is_stored(
    env: Env,
) -> None:
    bad = {**GOOD, "title": "", "ends": "2026-11-01", "starts": "i morgen", "tool": "hacker"}
    back = await register(env, bad)
    shown = texts_in(back)
    assert NB("trials.problems_title") in shown
    assert f"• {NB('trials.label.title')}: {NB('trials.problem.required')}" in shown
    assert f"• {NB('trials.label.starts')}: {NB('trials.problem.not_a_date')}" in shown
    assert f"• {NB('trials.label.tool')}: {NB('trials.problem.unknown_choice')}" in shown
    assert inputs_of(back)["success"]["value"] == GOOD["success"]
    assert inputs_of(back)["unit"]["value"] == GOOD["unit"]
    assert await env.trials.all() == []
    over = await register(env, {**GOOD, "starts": "2026-11-01", "ends": "2026-11-10"})
    assert f"• {NB('trials.label.ends')}: {NB('trials.problem.in_the_past')}" in texts_in(over)
    assert await env.trials.all() == []
    assert adaptive_card_findings([back, over]) == [[], []]


async def test_a_red_verdict_is_not_registered_and_the_card_says_why_and_what_to_do(
    env: Env,
) -> None:
    back = await register(env, RED)
    shown = texts_in(back)
    assert f"🔴 {NB('trials.refused_title')}" in shown
    assert f"• {NB('rule.personal_data_open_tool')}" in shown
    assert f"• {NB('next.use_approved_tool')}" in shown
    assert f"• {NB('trials.refused_change')}" in shown
    assert f"• {NB('next.report_breach')}" not in shown  # nothing has happened yet
    assert button(back, Verb.KI_START)  # the KI-sjekk is one press away
    assert inputs_of(back)["title"]["value"] == GOOD["title"]  # nothing typed is lost
    assert await env.trials.all() == []
    assert adaptive_card_findings([back]) == [[]]


async def test_pressing_register_twice_stores_one_trial(env: Env) -> None:
    adapter = env.adapter(CHAMPION)
    form = await open_form(adapter)
    await press(env.harness, adapter, form, Verb.TRIAL_SUBMIT, **GOOD)
    again = await press(env.harness, adapter, form, Verb.TRIAL_SUBMIT, **GOOD)
    assert NB("trials.already_saved") in texts_in(again)
    assert len(await env.trials.all()) == 1
    # a new form is a new trial
    other = await open_form(adapter)
    await press(env.harness, adapter, other, Verb.TRIAL_SUBMIT, **GOOD)
    assert len(await env.trials.all()) == 2


async def test_a_submit_carrying_someone_elses_trial_id_registers_a_new_trial(env: Env) -> None:
    await register(env)
    mine = (await only_trial(env)).trial
    theirs = someone_elses(mine, title="Deres")
    assert await env.trials.add(theirs)
    # this champion's press carries the other champion's trial id
    saved = await press_raw(
        env, env.adapter(CHAMPION), Verb.TRIAL_SUBMIT, {**GOOD, "trial": theirs.trial_id}
    )
    assert NB("trials.already_saved") not in texts_in(saved)
    assert GOOD["title"] in texts_in(saved)
    stored = await env.trials.get(theirs.trial_id)
    assert stored is not None
    assert stored.trial == theirs  # untouched
    assert len(await env.trials.all()) == 3


@pytest.mark.parametrize("word", ["ny utprøving", "utprøving", "trial"])
async def test_someone_who_is_not_a_champion_cannot_register_a_trial(env: Env, word: str) -> None:
    adapter = env.adapter(USER)
    card = await open_form(adapter, word)
    assert title_of(card) == NB("trials.champions_only_title")  # a Norwegian Teams
    assert inputs_of(card) == {}
    # a forged submit press is refused the same way, and nothing is stored
    response_card = await press_raw(env, adapter, Verb.TRIAL_SUBMIT, GOOD)
    assert title_of(response_card) == NB("trials.champions_only_title")
    assert await env.trials.all() == []


async def press_raw(
    env: Env, adapter: TestAdapter, verb: Verb, data: dict[str, str]
) -> dict[str, Any]:
    response = await invoke(
        adapter, {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": 1, **data}}}
    )
    assert response.status == 200
    card: dict[str, Any] = response.body["value"]
    return card


async def test_participants_see_their_trials_open_ones_first_each_with_a_learning_card_button(
    env: Env,
) -> None:
    await register(env, GOOD)
    await register(env, {**GOOD, "title": "Uten Kari", "participants": ""})
    mine = next(s.trial for s in await env.trials.all() if s.trial.draft.title == GOOD["title"])
    # registered earlier by another champion: one ended long ago (shown last, no button), one
    # still to come (no button yet)
    ended = someone_elses(mine, title="Avsluttet", starts=date(2026, 9, 1), ends=date(2026, 10, 1))
    coming = someone_elses(mine, title="Kommer", starts=date(2027, 1, 4), ends=date(2027, 2, 1))
    # and one that ended five days ago: still open for learning cards (two weeks' grace)
    lately = someone_elses(mine, title="Nylig", starts=date(2026, 10, 1), ends=date(2026, 11, 13))
    for trial in (ended, coming, lately):
        assert await env.trials.add(trial)

    adapter = env.adapter(USER)
    await say(adapter, "utprøvinger")
    [card] = cards_sent(adapter)
    assert title_of(card) == NB("trials.list_title")
    titles = [node["text"] for node in _containers(card)]
    # open ones first (the one ending first on top), then those to come, then the ended; not the
    # trial Kari is not in
    assert titles == ["Nylig", GOOD["title"], "Kommer", "Avsluttet"]
    grace = NB("trials.status.grace", unit=GOOD["unit"], starts="01.10.2026", ends="13.11.2026")
    assert grace in texts_in(card)
    buttons = [b["data"]["trial"] for b in _buttons(card, Verb.CARD_OPEN)]
    good = next(s for s in await env.trials.all() if s.trial.draft.title == GOOD["title"])
    assert buttons == [lately.trial_id, good.trial.trial_id]
    assert not _buttons(card, Verb.TRIAL_NEW)  # not a champion
    assert adaptive_card_findings([card]) == [[]]

    stranger = env.adapter(STRANGER)
    await say(stranger, "utprøvinger")
    [empty] = cards_sent(stranger)
    assert NB("trials.list_empty") in texts_in(empty)
    assert adaptive_card_findings([empty]) == [[]]


def _containers(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element["items"][0]
        for element in card["body"]
        if element.get("type") == "Container" and element.get("separator")
    ]


def _buttons(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    return actions(card, verb)


async def test_a_learning_card_is_filed_for_a_trial_from_its_button(env: Env) -> None:
    await register(env)
    trial = (await only_trial(env)).trial
    adapter = env.adapter(USER)
    await say(adapter, "utprøvinger")
    [listing] = cards_sent(adapter)
    form = await press(env.harness, adapter, listing, Verb.CARD_OPEN)
    fields = inputs_of(form)
    assert fields["trial"]["value"] == trial.trial_id
    assert [c["value"] for c in fields["trial"]["choices"]] == ["none", trial.trial_id]
    assert fields["trial"]["choices"][0]["title"] == NB("trials.none_choice")
    # the trial's answers are filled in
    assert (fields["task"]["value"], fields["tool"]["value"]) == ("write", "copilot_chat")
    assert adaptive_card_findings([form]) == [[]]

    card_data = {**GOOD_CARD, "trial": trial.trial_id}
    saved = await press(env.harness, adapter, form, Verb.CARD_SUBMIT, **card_data)
    assert title_of(saved).endswith(NB("learning.saved_title"))
    [stored] = await env.learning_store.all()
    assert stored.card.draft.trial == trial.trial_id
    facts = {
        f["title"]: f["value"]
        for n in saved["body"]
        if n.get("type") == "FactSet"
        for f in n["facts"]
    }
    assert facts[NB("trials.fact_trial")] == GOOD["title"]
    assert adaptive_card_findings([saved]) == [[]]


async def test_the_learning_card_offers_open_trials_but_chooses_none_unless_opened_from_one(
    env: Env,
) -> None:
    await register(env)
    adapter = env.adapter(USER)
    await say(adapter, "læringskort")
    [form] = cards_sent(adapter)
    fields = inputs_of(form)
    assert fields["trial"]["value"] == "none"  # "Ingen"
    assert len(fields["trial"]["choices"]) == 2
    saved = await press(env.harness, adapter, form, Verb.CARD_SUBMIT, **GOOD_CARD, trial="none")
    assert title_of(saved).endswith(NB("learning.saved_title"))
    [stored] = await env.learning_store.all()
    assert stored.card.draft.trial == ""
    # someone in no trial is not asked at all
    stranger = env.adapter(STRANGER)
    await say(stranger, "læringskort")
    [plain] = cards_sent(stranger)
    assert "trial" not in inputs_of(plain)


async def test_a_forged_trial_on_a_learning_card_is_refused_and_nothing_is_stored(
    env: Env,
) -> None:
    await register(env, {**GOOD, "participants": ""})  # Kari is not in it
    trial = (await only_trial(env)).trial
    adapter = env.adapter(USER)
    await say(adapter, "læringskort")
    [form] = cards_sent(adapter)
    for forged in (trial.trial_id, "f" * 32):
        back = await press(env.harness, adapter, form, Verb.CARD_SUBMIT, **GOOD_CARD, trial=forged)
        line = f"• {NB('trials.label.trial_choice')}: {NB('learning.problem.unknown_choice')}"
        assert line in texts_in(back)
    assert await env.learning_store.all() == []
    # a button of someone else's trial opens a card that does not name it
    forged_open = await press_raw(env, adapter, Verb.CARD_OPEN, {"trial": trial.trial_id})
    assert "trial" not in inputs_of(forged_open)


async def test_the_help_card_lists_registering_a_trial_for_champions_only(env: Env) -> None:
    cards = {}
    for who in (USER, CHAMPION):
        adapter = env.adapter(who)
        await say(adapter, "hjelp")
        [cards[who.id]] = cards_sent(adapter)
    user, champion = cards[USER.id], cards[CHAMPION.id]
    assert NB("trials.cmd_list") in texts_in(user)
    assert NB("trials.cmd_new") not in texts_in(user)
    assert NB("trials.cmd_list") in texts_in(champion)
    assert NB("trials.cmd_new") in texts_in(champion)
    assert adaptive_card_findings([user, champion]) == [[], []]


def test_every_trial_card_in_every_language_passes_microsofts_parser() -> None:
    """What the trial dialog and the learning card make of trials, in nb, nn and en."""
    learning = LearningCardDialog(CONTENT.policy, CONTENT.service_areas)
    dialog = TrialDialog(CONTENT.policy, learning)
    draft = TrialDraft(
        title="Utkast [lenke](https://x) *fet*",
        task="write",
        service_area="technical",
        unit="Byggesak",
        tool="other",
        tool_other="Skrivehjelpen",
        category="open",
        participants=("aad-champion",),
        starts=date(2026, 11, 16),
        ends=date(2026, 12, 18),
        success="Halvparten starter fra et utkast.",
    )
    trial = Trial("a" * 32, NOW, "aad-champion", "nb", draft, "yellow", "minimal")
    red = assess(CONTENT.policy, Answers("monitor_people", "copilot_chat", "open"))
    renderer = CardRenderer()
    cards = []
    for language in LANGUAGES:
        texts = CONTENT.catalog.texts(language)
        views: list[Any] = [
            dialog.form(texts, "b" * 32),
            dialog.form(texts, "b" * 32, GOOD, problems=("Tittel: må fylles ut",)),
            dialog.form(texts, "b" * 32, GOOD, refusal=red, notice="x"),
            dialog.saved(texts, trial, None, repeated=True),
            dialog.saved(texts, replace(trial, verdict="green"), None, repeated=False),
            dialog.listing(texts, [], NOW.date(), champion=True),
            dialog.listing(texts, [], NOW.date(), champion=False),
            dialog.listing(texts, [trial] * 25, NOW.date(), champion=True),
            dialog.refused(texts),
            learning.form(texts, "c" * 32, trials=(Choice("a" * 32, draft.title),)),
            HelpView(champion=True),
        ]
        cards += [renderer.render(view, texts) for view in views]
    findings = adaptive_card_findings(cards)
    assert findings == [[]] * len(cards)


async def test_while_the_store_is_down_nothing_is_registered_or_filed_and_nothing_is_lost(
    env: Env,
) -> None:
    await register(env)
    trial = (await only_trial(env)).trial
    champion, user = env.adapter(CHAMPION), env.adapter(USER)
    trial_form = await open_form(champion)
    await say(user, "utprøvinger")
    [listing] = cards_sent(user)
    card_form = await press(env.harness, user, listing, Verb.CARD_OPEN)
    await env.harness.db.close()  # the store goes away
    back = await press(env.harness, champion, trial_form, Verb.TRIAL_SUBMIT, **GOOD)
    assert NB("trials.storage_down") in texts_in(back)
    assert inputs_of(back)["success"]["value"] == GOOD["success"]
    card_back = await press(
        env.harness, user, card_form, Verb.CARD_SUBMIT, **GOOD_CARD, trial=trial.trial_id
    )
    assert NB("learning.storage_down") in texts_in(card_back)
    assert inputs_of(card_back)["trial"]["value"] == trial.trial_id  # the choice is kept
    assert inputs_of(card_back)["what"]["value"] == GOOD_CARD["what"]
    # the learning card opens without trials meanwhile
    await say(user, "læringskort")
    [plain] = cards_sent(user)
    assert title_of(plain) == NB("learning.title")
    assert "trial" not in inputs_of(plain)
    await env.harness.db.open()  # back again: the next presses store each once
    await press(env.harness, champion, back, Verb.TRIAL_SUBMIT, **GOOD)
    saved = await press(
        env.harness, user, card_back, Verb.CARD_SUBMIT, **GOOD_CARD, trial=trial.trial_id
    )
    assert title_of(saved).endswith(NB("learning.saved_title"))
    assert len(await env.trials.all()) == 2
    [stored] = await env.learning_store.all()
    assert stored.card.draft.trial == trial.trial_id
    assert adaptive_card_findings([back, card_back]) == [[], []]
