"""`mine data` and the trials (issue 17): the person sees the trials they registered or take part
in (title and period, nobody else's id), can turn the reminders about trials off from the reminder
card and on again from `mine data`, and "Slett mine data" takes them out of every trial."""

from __future__ import annotations

import json
from typing import Any

from bot.core.trials import Trial
from cards.verbs import Verb
from content import load_catalog
from tests.fakes.trials import sample_trial
from tests.flows.conftest import Harness, cards_sent, invoke, say, title_of
from tests.flows.test_ki_check_flow import button, press, texts_in
from tests.node import adaptive_card_findings

NB = load_catalog().texts("nb")
EN = load_catalog().texts("en")
ME = "aad-user"  # the harness's user
SECRET = "aad-secret-colleague"


def trial(trial_id: str, owner: str, participants: tuple[str, ...], title: str) -> Trial:
    return sample_trial(trial_id, owner=owner, participants=participants, title=title)


async def mine_data(harness: Harness, adapter: Any, locale: str = "nb-NO") -> dict[str, Any]:
    await say(adapter, "mine data", locale=locale)
    [card] = cards_sent(adapter)
    return card


def reminder_button(verb: Verb) -> dict[str, Any]:
    """The data an opt-out button on a reminder card carries."""
    return {"action": {"type": "Action.Execute", "verb": verb, "data": {"v": 1, "lang": "nb"}}}


async def test_mine_data_lists_my_trials_without_anyone_elses_id(harness: Harness) -> None:
    await harness.stores.trials.add(
        trial("a" * 32, "aad-champion", ("aad-champion", ME, SECRET), "Referater med Copilot")
    )
    await harness.stores.trials.add(trial("b" * 32, ME, (SECRET,), "Svar på **e-post**"))
    await harness.stores.trials.add(trial("c" * 32, "aad-champion", (SECRET,), "Ikke min"))
    adapter = harness.adapter()
    card = await mine_data(harness, adapter)
    shown = texts_in(card)
    assert NB.count("trial_reminders.trials", 2) in shown
    assert "Referater med Copilot · 02.11.2026–31.01.2027" in shown
    assert "Svar på \\*\\*e-post\\*\\* · 02.11.2026–31.01.2027 · registrert av deg" in shown
    whole = json.dumps(card, ensure_ascii=False)
    assert "Ikke min" not in whole
    assert SECRET not in whole, "nobody else's id"
    assert "aad-champion" not in whole
    assert adaptive_card_findings([card]) == [[]]


async def test_reminders_are_turned_off_from_the_card_and_on_again_in_mine_data(
    harness: Harness,
) -> None:
    adapter = harness.adapter()
    response = await invoke(adapter, reminder_button(Verb.TRIAL_REMINDERS_OFF))
    assert response.status == 200
    off = response.body["value"]
    assert title_of(off) == NB("trial_reminders.off_title")
    assert await harness.stores.trials.reminders_muted(ME) is True
    again = await invoke(adapter, reminder_button(Verb.TRIAL_REMINDERS_OFF))
    assert title_of(again.body["value"]) == NB("trial_reminders.off_title"), "pressed twice: same"

    overview = await mine_data(harness, adapter)
    assert NB("trial_reminders.reminders_off") in texts_in(overview)
    on = await press(harness, adapter, overview, Verb.TRIAL_REMINDERS_ON)
    assert title_of(on) == NB("trial_reminders.on_title")
    assert await harness.stores.trials.reminders_muted(ME) is False
    button(on, Verb.TRIAL_REMINDERS_OFF)  # and off again, if they change their mind
    later = await mine_data(harness, adapter)
    assert NB("trial_reminders.reminders_off") not in texts_in(later)
    assert not [b for b in later["actions"] if b.get("verb") == Verb.TRIAL_REMINDERS_ON]
    assert adaptive_card_findings([off, overview, on]) == [[], [], []]


async def test_slett_mine_data_takes_me_out_of_every_trial_and_forgets_the_choice(
    harness: Harness,
) -> None:
    await harness.stores.trials.add(
        trial("a" * 32, "aad-champion", ("aad-champion", ME, SECRET), "Referater med Copilot")
    )
    await harness.stores.trials.add(trial("b" * 32, ME, (SECRET,), "Svar på e-post"))
    await harness.stores.trials.mute_reminders(ME)
    adapter = harness.adapter()
    overview = await mine_data(harness, adapter)
    ask = await press(harness, adapter, overview, Verb.MY_DATA_ERASE_ASK)
    assert NB("trial_reminders.confirm_trials") in " ".join(texts_in(ask))
    erased = await press(harness, adapter, ask, Verb.MY_DATA_ERASE)
    shown = " ".join(texts_in(erased))
    assert NB.count("trial_reminders.erased_trials", 2) in shown
    assert NB("trial_reminders.erased_reminders") in shown
    assert await harness.stores.trials.of_person(ME) == []
    assert await harness.stores.trials.reminders_muted(ME) is False
    kept = await harness.stores.trials.of_person(SECRET)
    assert [s.trial.draft.title for s in kept] == ["Referater med Copilot", "Svar på e-post"]
    assert kept[1].trial.owner == ""
    assert adaptive_card_findings([ask, erased]) == [[], []]


async def test_the_opt_out_answers_in_english_for_an_english_card(harness: Harness) -> None:
    adapter = harness.adapter()
    value = reminder_button(Verb.TRIAL_REMINDERS_OFF)
    value["action"]["data"]["lang"] = "en"
    response = await invoke(adapter, value, locale="en-US")
    assert title_of(response.body["value"]) == EN("trial_reminders.off_title")
