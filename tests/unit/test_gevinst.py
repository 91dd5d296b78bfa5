"""The gevinstverksted's material (bot.core.trials.gevinst): the learning cards of a trial or a
unit summed up, and the card that shows it (checked by Microsoft's parser)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.content_loader import load_content
from bot.core.learning_cards import (
    CardDraft,
    DeliveryState,
    FollowUp,
    LearningCard,
    StoredCard,
    summarize,
)
from bot.core.records import UsageSnapshot
from bot.core.trials import StoredTrial, Trial, TrialDraft
from bot.core.trials.gevinst import (
    Scope,
    ScopeKind,
    gevinst,
    in_scope,
    reported_hours,
    units,
)
from cards.renderer import CardRenderer
from cards.views import TrialSummaryView
from content import LANGUAGES, Language
from dialogs.gevinst import GevinstDialog, number
from dialogs.learning_card import LearningCardDialog
from tests.card_tree import nodes
from tests.node import adaptive_card_findings

CONTENT = load_content()
CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def trial(
    trial_id: str, unit: str, area: str = "health_care", title: str = "Referat"
) -> StoredTrial:
    draft = TrialDraft(
        title=title,
        task="summarise",
        service_area=area,
        unit=unit,
        tool="copilot_chat",
        tool_other="",
        category="open",
        participants=("aad-champion", "aad-kari"),
        starts=date(2026, 11, 2),
        ends=date(2026, 12, 18),
        success="Referatet er klart samme dag.",
    )
    created = CREATED + timedelta(minutes=len(trial_id))
    return StoredTrial(
        Trial(trial_id, created, "aad-champion", "nb", draft, "green", "minimal"),
        DeliveryState.DELIVERED,
    )


BASE = CardDraft(
    title="Møtereferat",
    service_area="health_care",
    task="summarise",
    tool="copilot_chat",
    tool_other="",
    what="Lot Copilot lage utkast til referat.",
    result="Referatet var klart samme dag.",
    benefit=4,
    minutes_saved=30,
    times_per_month=4,
    category="open",
    challenges="",
    recommend="yes",
    share=False,
    trial="t-nord",
)


def card(card_id: str, *, flags: tuple[FollowUp, ...] = (), **changes: Any) -> StoredCard:
    learning = LearningCard(
        card_id, CREATED, f"aad-{card_id}", "nb", replace(BASE, **changes), flags
    )
    return StoredCard(learning, DeliveryState.DELIVERED)


TRIALS = [
    trial("t-nord", "Hjemmetjenesten sone nord"),
    trial("t-nord-2", "hjemmetjenesten  Sone Nord", title="Vaktplan"),
    trial("t-skole", "Skolekontoret", area="school", title="Foreldrebrev"),
]
CARDS = [
    card("c1", benefit=5, minutes_saved=30, times_per_month=4, share=True),  # 2 h
    card(
        "c2",
        benefit=3,
        minutes_saved=15,
        times_per_month=8,  # 2 h
        recommend="maybe",
        result="Ikke til deling.",
        challenges="Copilot fant på et vedtak som ikke fantes.",
    ),
    card(
        "c3",
        trial="t-nord-2",
        task="write",
        benefit=4,
        minutes_saved=60,
        times_per_month=3,  # 3 h
        flags=(FollowUp.NOT_APPROVED_FOR_CATEGORY,),
        share=True,
        result='=HYPERLINK("https://evil")',
    ),
    card("c4", trial="t-skole", benefit=1, minutes_saved=10, times_per_month=6, recommend="no"),
    card("c5", trial="", benefit=5, minutes_saved=600, times_per_month=20),  # no trial
    card("c6", trial="t-gone", benefit=5),  # a trial not stored (forged or removed)
]


def test_one_trial_counts_only_its_own_cards_with_every_figure() -> None:
    found = gevinst(TRIALS, CARDS, Scope(ScopeKind.TRIAL, "t-nord"))
    assert [c.card.card_id for c in found.cards] == ["c1", "c2"]
    assert found.average_benefit == 4.0
    assert found.benefit_counts == ((1, 0), (2, 0), (3, 1), (4, 0), (5, 1))
    assert found.reported_hours_per_month == 4.0
    assert [(h.card_id, h.hours_per_month) for h in found.hours_by_card] == [
        ("c1", 2.0),
        ("c2", 2.0),
    ]
    assert found.hours_by_task == (("summarise", 4.0),)
    assert found.recommend == (("yes", 1), ("maybe", 1), ("no", 0))
    assert found.recommended_tasks == (("summarise", 1),)
    [risk] = found.risks
    assert (risk.card_id, risk.challenges) == ("c2", "Copilot fant på et vedtak som ikke fantes.")
    # only the result its sender allowed to share is quoted
    assert [(q.card_id, q.result) for q in found.quotes] == [
        ("c1", "Referatet var klart samme dag.")
    ]


def test_a_unit_gathers_every_trial_whatever_the_spelling_or_by_service_area() -> None:
    by_name = gevinst(TRIALS, CARDS, Scope(ScopeKind.UNIT, "HJEMMETJENESTEN sone nord"))
    assert {t.trial_id for t in by_name.trials} == {"t-nord", "t-nord-2"}
    assert [c.card.card_id for c in by_name.cards] == ["c1", "c2", "c3"]
    assert by_name.reported_hours_per_month == 7.0
    assert by_name.hours_by_task == (("summarise", 4.0), ("write", 3.0))
    assert by_name.recommended_tasks == (("summarise", 1), ("write", 1))
    assert [(r.card_id, r.follow_up) for r in by_name.risks] == [
        ("c2", ()),
        ("c3", (FollowUp.NOT_APPROVED_FOR_CATEGORY,)),
    ]
    by_area = gevinst(TRIALS, CARDS, Scope(ScopeKind.UNIT, "school"))
    assert [c.card.card_id for c in by_area.cards] == ["c4"]
    assert by_area.recommend == (("yes", 0), ("maybe", 0), ("no", 1))
    assert reported_hours(by_area.cards[0]) == 1.0


def test_cards_without_a_trial_or_of_an_unknown_one_are_never_counted() -> None:
    everything = gevinst(TRIALS, CARDS, Scope(ScopeKind.UNIT, "Hjemmetjenesten sone nord"))
    counted = {c.card.card_id for c in everything.cards}
    assert "c5" not in counted
    assert "c6" not in counted
    nothing = gevinst(TRIALS, CARDS, Scope(ScopeKind.TRIAL, "t-gone"))
    assert (nothing.trials, nothing.total, nothing.average_benefit) == ((), 0, None)
    assert nothing.benefit_counts == ((1, 0), (2, 0), (3, 0), (4, 0), (5, 0))


def test_units_are_listed_once_in_their_first_spelling() -> None:
    assert units(TRIALS) == ("Hjemmetjenesten sone nord", "Skolekontoret")
    assert in_scope(TRIALS, Scope(ScopeKind.UNIT, "ukjent")) == ()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("trial:t-nord", Scope(ScopeKind.TRIAL, "t-nord")),
        ("unit:Hjemmetjenesten sone nord", Scope(ScopeKind.UNIT, "Hjemmetjenesten sone nord")),
        ("unit: ", None),
        ("admin:x", None),
        ("t-nord", None),
        (["trial:t-nord"], None),
        (None, None),
    ],
)
def test_a_forged_choice_is_no_scope(value: object, expected: Scope | None) -> None:
    assert Scope.decode(value) == expected
    if expected is not None:
        assert Scope.decode(expected.encode()) == expected


DIALOG = GevinstDialog(LearningCardDialog(CONTENT.policy, CONTENT.service_areas))


def _views(lang: Language) -> list[TrialSummaryView]:
    texts = CONTENT.catalog.texts(lang)
    views = [DIALOG.pick(texts, TRIALS), DIALOG.pick(texts, []), DIALOG.unavailable(texts)]
    for scope in (
        Scope(ScopeKind.TRIAL, "t-nord"),
        Scope(ScopeKind.UNIT, "Hjemmetjenesten sone nord"),
        Scope(ScopeKind.TRIAL, "t-gone"),
        Scope(ScopeKind.UNIT, "Skolekontoret"),
    ):
        views.append(DIALOG.summary(texts, TRIALS, scope, gevinst(TRIALS, CARDS, scope)))
    no_cards = Scope(ScopeKind.TRIAL, "t-nord")
    views.append(DIALOG.summary(texts, TRIALS, no_cards, gevinst(TRIALS, [], no_cards)))
    return views


def _text(card: dict[str, Any]) -> str:
    return "\n".join(
        str(node.get(key, ""))
        for node in nodes(card)
        for key in ("text", "title", "value")
        if isinstance(node.get(key, ""), str)
    )


def test_every_gevinst_card_passes_microsofts_parser_in_every_language() -> None:
    renderer = CardRenderer()
    cards = [
        (f"{lang}/{i}", renderer.render(view, CONTENT.catalog.texts(lang)))
        for lang in LANGUAGES
        for i, view in enumerate(_views(lang))
    ]
    findings = adaptive_card_findings([c for _, c in cards])
    assert {name: f for (name, _), f in zip(cards, findings, strict=True) if f} == {}


def _bars(card: dict[str, Any], heading: str) -> list[tuple[str, str, int]]:
    """The chart under `heading`: (label, value, bar width) per row."""
    body = card["body"]
    index = next(i for i, el in enumerate(body) if el.get("text") == heading)
    rows = []
    for row in body[index + 1]["items"]:
        label, bar, value = row["columns"]
        widths = [c for c in bar["items"][0]["columns"] if c.get("style") != "emphasis"]
        rows.append(
            (
                label["items"][0]["text"],
                value["items"][0]["text"],
                widths[0]["width"] if widths else 0,
            )
        )
    return rows


def test_the_card_shows_the_figures_as_experienced_and_reported_with_charts() -> None:
    texts = CONTENT.catalog.texts("nb")
    scope = Scope(ScopeKind.UNIT, "Hjemmetjenesten sone nord")
    card = CardRenderer().render(
        DIALOG.summary(texts, TRIALS, scope, gevinst(TRIALS, CARDS, scope)), texts
    )
    shown = _text(card)
    assert texts("gevinst.experienced") in shown
    facts = {
        f["title"]: f["value"]
        for el in card["body"]
        if el.get("type") == "FactSet"
        for f in el["facts"]
    }
    assert facts[texts("gevinst.cards")] == "3"
    assert facts[texts("gevinst.average_benefit")] == "4,0 av 5"
    assert facts[texts("gevinst.hours")] == "7,0 timer i måneden"
    assert "opplevd" in texts("gevinst.hours").lower()
    assert facts[texts("gevinst.recommend")] == "2 / 1 / 0"
    benefit = _bars(card, texts("gevinst.benefit_chart"))
    assert [(value, width) for _, value, width in benefit] == [
        ("0", 0),
        ("0", 0),
        ("1", 100),
        ("1", 100),
        ("1", 100),
    ]
    # two tasks: the time is charted per task
    hours = _bars(card, texts("gevinst.hours_by_task"))
    assert hours == [
        (texts("task.summarise"), "4,0 t", 100),
        (texts("task.write"), "3,0 t", 75),
    ]
    # the shared results are quoted (a formula stays inert text); the unshared one never shows
    assert "Referatet var klart samme dag." in shown
    assert "Ikke til deling." not in shown
    assert "Copilot fant på et vedtak som ikke fantes." in shown
    assert texts("gevinst.flag.not_approved_for_category") in shown
    [choice_set] = [n for n in nodes(card) if n.get("type") == "Input.ChoiceSet"]
    assert choice_set["value"] == scope.encode()
    assert {c["value"] for c in choice_set["choices"]} == {
        "trial:t-nord",
        "trial:t-nord-2",
        "trial:t-skole",
        "unit:Hjemmetjenesten sone nord",
        "unit:Skolekontoret",
    }


def test_one_trial_charts_time_per_card_and_names_its_period_and_verdict() -> None:
    texts = CONTENT.catalog.texts("en")
    scope = Scope(ScopeKind.TRIAL, "t-nord")
    card = CardRenderer().render(
        DIALOG.summary(texts, TRIALS, scope, gevinst(TRIALS, CARDS, scope)), texts
    )
    assert [(v, w) for _, v, w in _bars(card, texts("gevinst.hours_by_card"))] == [
        ("2.0 h", 100),
        ("2.0 h", 100),
    ]
    shown = _text(card)
    assert "2026-11-02–2026-12-18" in shown
    assert "AI check: green" in shown
    assert "ID t-nord" in shown


def test_user_text_on_the_card_is_inert_markdown() -> None:
    texts = CONTENT.catalog.texts("nb")
    hostile = [card("m1", title="[Logg inn](https://evil)", share=True, result="**viktig**")]
    scope = Scope(ScopeKind.TRIAL, "t-nord")
    shown = _text(
        CardRenderer().render(
            DIALOG.summary(texts, TRIALS, scope, gevinst(TRIALS, hostile, scope)), texts
        )
    )
    assert "\\[Logg inn\\](https://evil)" in shown
    assert "\\*\\*viktig\\*\\*" in shown
    assert "[Logg inn](https://evil)" not in shown.replace("\\[Logg inn\\](https://evil)", "")


@pytest.mark.parametrize(
    ("lang", "word"), [("nb", "opplevd"), ("nn", "opplevd"), ("en", "experienced")]
)
def test_the_leads_summary_calls_time_saved_experienced_and_reported(
    lang: Language, word: str
) -> None:
    texts = CONTENT.catalog.texts(lang)
    dialog = LearningCardDialog(CONTENT.policy, CONTENT.service_areas)
    view = dialog.summary(
        texts,
        summarize(CARDS),
        UsageSnapshot(verdicts={}, feedback={}),
        to_sharepoint=False,
        list_url="",
    )
    card = CardRenderer().render(view, texts)
    facts = {
        f["title"]: f["value"]
        for el in card["body"]
        if el.get("type") == "FactSet"
        for f in el["facts"]
    }
    hours = number(sum(reported_hours(c) for c in CARDS), lang)  # every card, as reported
    [label] = [
        k for k, v in facts.items() if v == texts("learning.summary.hours_value", hours=hours)
    ]
    assert word in label.lower()
    assert word in texts("learning.summary.average_benefit").lower()
    assert texts("gevinst.experienced") in _text(card)


def test_a_card_with_the_longest_texts_and_many_trials_stays_within_teams_limit() -> None:
    texts = CONTENT.catalog.texts("nn")
    long = "Lang tekst " * 400  # longer than a card field may be
    trials = [
        trial(f"t-{n:03}", f"Eining {n} " + "x" * 80, title=f"Utprøving {n} " + "y" * 100)
        for n in range(200)
    ]
    cards = [
        card(f"k{n}", trial="t-000", title="z" * 120, challenges=long, result=long, share=True)
        for n in range(100)
    ]
    scope = Scope(ScopeKind.TRIAL, "t-000")
    view = DIALOG.summary(texts, trials, scope, gevinst(trials, cards, scope))
    rendered = CardRenderer().render(view, texts)
    assert len(json.dumps(rendered, ensure_ascii=False).encode()) < 28_000
    assert all(len(line) < 600 for line in view.risks + view.quotes)
    assert adaptive_card_findings([rendered]) == [[]]
