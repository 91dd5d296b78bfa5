"""The learning card's pure core: fields re-checked, personal data caught, flags, CSV, summary."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.content_loader import load_content
from bot.core.learning_cards import (
    CardDraft,
    DeliveryState,
    FieldError,
    FollowUp,
    LearningCard,
    Problem,
    StoredCard,
    card_options,
    csv_row,
    follow_up,
    neutralise,
    personal_data,
    retry_delay,
    summarize,
    validate,
)
from bot.core.learning_cards.checks import (
    FieldFindings,
    check_personal_data,
    name_key,
    name_keys,
)
from bot.core.privacy import FindingKind
from bot.core.records import UsageSnapshot
from cards.renderer import CardRenderer
from dialogs.learning_card import LearningCardDialog

CONTENT = load_content()
POLICY = CONTENT.policy
OPTIONS = card_options(POLICY, CONTENT.service_areas)
LABELS = LearningCardDialog(POLICY, CONTENT.service_areas).labels(CONTENT.catalog.texts("nb"))
GOOD: dict[str, object] = {
    "title": "Svarbrev",
    "area": "school",
    "task": "write",
    "tool": "copilot_chat",
    "what": "Utkast til brev.",
    "result": "Bra.",
    "benefit": "5",
    "minutes": "30",
    "per_month": "4",
    "category": "open",
    "recommend": "yes",
    "share": "false",
}


def draft(**changes: object) -> CardDraft:
    checked = validate({**GOOD, **changes}, OPTIONS)
    assert isinstance(checked, CardDraft), checked
    return checked


def stored(
    card_id: str, state: DeliveryState = DeliveryState.PENDING, **changes: object
) -> StoredCard:
    d = draft(**changes)
    card = LearningCard(
        card_id, datetime(2026, 11, 30, tzinfo=UTC), "aad-1", "nb", d, follow_up(d, POLICY)
    )
    return StoredCard(card=card, state=state)


def test_a_complete_card_passes_with_typed_values() -> None:
    d = draft(benefit=5, minutes="30", share="true")
    assert (d.benefit, d.minutes_saved, d.times_per_month, d.share) == (5, 30, 4, True)


def test_each_kind_of_bad_value_is_named_for_its_field() -> None:
    errors = validate(
        {
            **GOOD,
            "title": "",
            "benefit": "0",
            "minutes": "1.5",
            "tool": "skynet",
            "what": "x" * 2001,
        },
        OPTIONS,
    )
    assert isinstance(errors, tuple)
    assert set(errors) == {
        FieldError("title", Problem.REQUIRED),
        FieldError("benefit", Problem.OUT_OF_RANGE),
        FieldError("minutes", Problem.NOT_A_NUMBER),
        FieldError("tool", Problem.UNKNOWN_CHOICE),
        FieldError("what", Problem.TOO_LONG),
    }


def test_another_tool_needs_its_name() -> None:
    assert validate({**GOOD, "tool": "other"}, OPTIONS) == (
        FieldError("tool_other", Problem.REQUIRED),
    )
    assert draft(tool="other", tool_other="Napkin AI").tool_other == "Napkin AI"


@given(
    st.dictionaries(
        st.sampled_from([*GOOD, "tool_other", "challenges", "card", "v"]),
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.text(max_size=30),
            st.lists(st.integers(), max_size=2),
            st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
        ),
    )
)
def test_validation_is_total_for_any_payload(data: dict[str, object]) -> None:
    result = validate({**GOOD, **data}, OPTIONS)
    if isinstance(result, CardDraft):
        assert 1 <= result.benefit <= 5
        assert result.tool in OPTIONS.tools
        assert result.service_area in OPTIONS.service_areas
        assert len(result.title) <= 120
    else:
        assert result
        assert all(isinstance(error, FieldError) for error in result)


def test_personal_data_is_reported_per_field_masked() -> None:
    found = personal_data(draft(result="Sendt til kari@example.no", title="Brev"))
    [item] = found
    assert item.field == "result"
    assert item.kinds == (FindingKind.EMAIL,)
    assert "kari@example.no" not in item.masked[0]


FNR = "150385-10018"  # a valid fødselsnummer, written the way people write it


def test_hard_findings_and_possible_names_are_reported_apart() -> None:
    found = check_personal_data(
        draft(what=f"Svarte Kari Nordmann, fnr {FNR}.", result="Sendt til Ola."),
        CONTENT.names,
        salt="card-1",
    )
    [hard] = found.hard
    assert (hard.field, hard.kinds) == ("what", (FindingKind.FODSELSNUMMER,))
    assert [(item.field, item.masked) for item in found.names] == [
        ("what", ("K••• N•••",)),
        ("result", ("O•••",)),
    ]
    assert found.name_keys == (name_key("card-1", "Kari Nordmann"), name_key("card-1", "Ola"))
    assert found.blocks(found.name_keys), "an identity number is never confirmed away"
    assert personal_data(draft(what=f"Svarte Kari Nordmann, fnr {FNR}.")) == (hard,)


def test_a_confirmation_covers_exactly_the_names_it_was_given() -> None:
    shown = check_personal_data(draft(what="Brev til Kari."), CONTENT.names, salt="c")
    assert shown.blocks()
    assert not shown.blocks(shown.name_keys)
    more = check_personal_data(draft(what="Brev til Kari og Ola."), CONTENT.names, salt="c")
    assert more.blocks(shown.name_keys), "a name added after the confirmation is asked again"
    other_card = check_personal_data(draft(what="Brev til Kari."), CONTENT.names, salt="d")
    assert other_card.blocks(shown.name_keys), "keys belong to one card"
    fewer = check_personal_data(draft(what="Brev til en innbygger."), CONTENT.names, salt="c")
    assert not fewer.blocks(), "no name, nothing to confirm"


def test_name_keys_hide_the_name_and_ignore_case_and_spacing() -> None:
    key = name_key("c", "Kari  Nordmann")
    assert key == name_key("c", "kari nordmann")
    assert "kari" not in key.lower()
    assert name_keys(f"{key} not-a-key {'0' * 40} {key}") == {key}
    assert name_keys(["forged"]) == frozenset()
    assert len(name_keys(" ".join(f"{n:016x}" for n in range(500)))) == 64


def test_tool_and_product_names_are_not_taken_for_people() -> None:
    found = check_personal_data(
        draft(
            title="Copilot i Microsoft Teams", what="Ba Copilot om et sammendrag i Microsoft Teams."
        ),
        CONTENT.names,
    )
    assert found.names == ()
    assert found.hard == ()


def test_without_a_name_lexicon_names_are_not_looked_for() -> None:
    assert check_personal_data(draft(what="Brev til Kari Nordmann.")).names == ()


def _shown(card: object) -> str:
    """Every text, title and value a card shows, one per line (as Teams gets them)."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            found.extend(str(node[k]) for k in ("text", "title", "value") if k in node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


MARKDOWN_TITLE = "[Logg inn](https://evil.example) **fet**"
INERT_TITLE = r"\[Logg inn\](https://evil.example) \*\*fet\*\*"


def test_a_title_written_as_markdown_shows_as_typed_on_the_saved_card_and_the_summary() -> None:
    dialog = LearningCardDialog(POLICY, CONTENT.service_areas)
    texts = CONTENT.catalog.texts("nb")
    renderer = CardRenderer()
    flagged = stored("a", title=MARKDOWN_TITLE, tool="chatgpt", category="restricted")
    parked = replace(
        stored("b", DeliveryState.PARKED, title=MARKDOWN_TITLE), reason="**403** [x](y)"
    )
    saved = renderer.render(
        dialog.saved(texts, flagged.card, to_sharepoint=True, repeated=False), texts
    )
    summary = renderer.render(
        dialog.summary(
            texts,
            summarize([flagged, parked]),
            UsageSnapshot(verdicts={}, feedback={}),
            to_sharepoint=True,
            list_url="",
        ),
        texts,
    )
    for card in (saved, summary):
        shown = _shown(card)
        assert INERT_TITLE in shown
        assert MARKDOWN_TITLE not in shown
        assert not re.search(r"(?<!\\)\]\(", shown), "no link can form"
        assert not re.search(r"(?<!\\)\*\*", shown), "no bold can form"


def test_masked_values_in_the_form_are_inert_too() -> None:
    dialog = LearningCardDialog(POLICY, CONTENT.service_areas)
    texts = CONTENT.catalog.texts("nb")
    found = (FieldFindings("what", (FindingKind.NAME,), ("*K•••*", "[O•••](x)")),)
    view = dialog.form(
        texts,
        "0" * 32,
        {},
        findings=dialog.finding_lines(texts, found),
        names=dialog.name_lines(texts, found),
    )
    shown = _shown(CardRenderer().render(view, texts))
    assert r"\*K•••\*, \[O•••\](x)" in shown
    assert "*K•••*" not in shown


def test_follow_up_when_information_is_more_sensitive_than_the_tool_allows() -> None:
    assert follow_up(draft(tool="chatgpt", category="restricted"), POLICY) == (
        FollowUp.SENSITIVE_IN_OPEN_TOOL,
    )
    assert follow_up(draft(tool="other", tool_other="X", category="confidential"), POLICY) == (
        FollowUp.SENSITIVE_IN_UNKNOWN_TOOL,
    )
    assert follow_up(draft(tool="copilot_chat", category="restricted"), POLICY) == (
        FollowUp.NOT_APPROVED_FOR_CATEGORY,
    )
    assert follow_up(draft(tool="m365_copilot", category="restricted"), POLICY) == ()
    assert follow_up(draft(tool="chatgpt", category="open"), POLICY) == ()


def test_spreadsheet_formulas_are_neutralised_in_every_cell() -> None:
    for evil in ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)", "\t=1", " =1"):
        assert neutralise(evil).startswith("'")
    assert neutralise("Vanlig tekst") == "Vanlig tekst"
    row = csv_row(stored("c1", title="=cmd|' /C calc'!A0"), LABELS)
    assert row[2] == "'=cmd|' /C calc'!A0"
    assert row[5] == "Microsoft 365 Copilot Chat (jobbkonto)"


def test_the_summary_counts_hours_benefit_recommendations_and_flags() -> None:
    cards = [
        stored("a", minutes="30", per_month="4", benefit="5"),  # 120 min
        stored(
            "b", minutes="15", per_month="2", benefit="3", tool="chatgpt", category="restricted"
        ),
        stored("c", DeliveryState.DELIVERED, minutes="0", benefit="4", recommend="no"),
    ]
    summary = summarize(cards)
    assert summary.total == 3
    assert summary.hours_saved_per_month == 2.5
    assert summary.average_benefit == 4.0
    assert summary.recommended == (("write", 2),)
    assert [s.card.card_id for s in summary.flagged] == ["b"]
    assert summary.pending == 2
    assert summary.by_tool[0] == ("copilot_chat", 2)
    assert dict(summary.by_status)["Ny"] == 3


def test_retries_honour_retry_after_and_back_off_exponentially_with_a_cap() -> None:
    assert retry_delay(1, 7.0, 0.3) == 7.0
    assert retry_delay(1, None, 1.0) == 2.0
    assert retry_delay(3, None, 1.0) == 8.0
    assert 4.0 <= retry_delay(3, None, 0.0) <= 8.0
    assert retry_delay(10_000, None, 1.0) == 900.0


def test_without_a_sharepoint_list_the_summary_shows_no_lead_statuses() -> None:
    from bot.core.records import UsageSnapshot
    from cards.renderer import CardRenderer

    dialog = LearningCardDialog(POLICY, CONTENT.service_areas)
    texts = CONTENT.catalog.texts("nb")
    summary = summarize([stored("a"), stored("b", tool="chatgpt")])
    usage = UsageSnapshot(verdicts={}, feedback={})
    local = CardRenderer().render(
        dialog.summary(texts, summary, usage, to_sharepoint=False, list_url=""), texts
    )
    shared = CardRenderer().render(
        dialog.summary(texts, summary, usage, to_sharepoint=True, list_url="https://x.no"), texts
    )
    assert texts("learning.summary.statuses") not in str(local)
    assert texts("learning.summary.local") in str(local)
    assert texts("learning.summary.statuses") in str(shared)
