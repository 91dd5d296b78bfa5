"""What the outbox tests work with: a virtual clock, a valid learning card (filed under a trial or
none), a valid trial, the list labels from content, and both lists made on the fake Graph by
`kivett sharepoint setup`'s own code (the trials list, then the learning-card list with its lookup
column)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime

from bot.content_loader import load_content
from bot.core.learning_cards import CardDraft, LearningCard, card_options, validate
from bot.core.trials import Trial, TrialDraft
from bot.operator.sharepoint import setup
from bot.settings import Settings
from dialogs.learning_card import LearningCardDialog
from tests.fakes.graph import FakeGraph, Scripted, StaticTokenCredential

SITE_URL = "https://contoso.sharepoint.com/sites/ki"
CARDS_LIST = "Læringskort"
TRIALS_LIST = "Utprøvinger"
CONTENT = load_content()
LABELS = LearningCardDialog(CONTENT.policy, CONTENT.service_areas).labels(
    CONTENT.catalog.texts("nb")
)


class Clock:
    """Seconds that pass only when set or slept."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def trial(trial_id: str, *, owner: str = "aad-champion") -> Trial:
    return Trial(
        trial_id=trial_id,
        created_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        owner=owner,
        language="nb",
        draft=TrialDraft(
            title=f"Utprøving {trial_id}",
            task="write",
            service_area="school",
            unit="Skolekontoret",
            tool="copilot_chat",
            tool_other="",
            category="open",
            participants=(owner, "aad-kari"),
            starts=date(2026, 11, 2),
            ends=date(2026, 12, 18),
            success="Halvparten av brevene skrives med utkast.",
        ),
        verdict="green",
        risk_level="minimal",
    )


def card(card_id: str, trial_id: str = "", *, author: str = "aad-kari") -> LearningCard:
    """A valid learning card, filed under `trial_id` ("" for none)."""
    checked = validate(
        {
            "title": f"Kort {card_id}",
            "area": "school",
            "task": "write",
            "tool": "copilot_chat",
            "what": "Skrev et utkast.",
            "result": "Bra.",
            "benefit": "4",
            "minutes": "10",
            "per_month": "2",
            "category": "open",
            "recommend": "yes",
        },
        card_options(CONTENT.policy, CONTENT.service_areas),
    )
    assert isinstance(checked, CardDraft)
    draft = replace(checked, trial=trial_id)
    return LearningCard(card_id, datetime(2026, 11, 30, tzinfo=UTC), author, "nb", draft, ())


async def provision_both(graph: FakeGraph) -> str:
    """Add the site to `graph` and run the setup command on it; returns the site id."""
    site_id = graph.add_site("contoso.sharepoint.com", "/sites/ki")
    out = io.StringIO()
    code = await setup(
        Settings.model_validate({"KIVETT_GRAPH_BASE_URL": graph.base_url}),
        SITE_URL,
        CARDS_LIST,
        LABELS.list_choices(),
        out,
        credential=StaticTokenCredential(graph.token),
        trials_list=TRIALS_LIST,
    )
    assert code == 0, out.getvalue()
    return site_id


def crash_then_outage(graph: FakeGraph, ambiguous: int) -> dict[str, str]:
    """Script `graph` for a kill-and-restart test: the first `ambiguous` creates are carried out
    but answered 504 (the bot cannot know the item exists), then every create is answered 503
    until `clear_script`. Returns the bot's environment for this Graph and site (`run_bot`)."""
    graph.script(
        *[Scripted(504, "gatewayTimeout", apply=True, method="POST", path_suffix="/items")]
        * ambiguous,
        *[Scripted(503, method="POST", path_suffix="/items")] * 10_000,
    )
    return {
        "KIVETT_SHAREPOINT_SITE": SITE_URL,
        "KIVETT_GRAPH_BASE_URL": graph.base_url,
        "KIVETT_OUTBOX_INTERVAL_SECONDS": "0.1",
    }
