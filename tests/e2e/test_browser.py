"""End to end in a real browser: the Agents Playground page in Chromium, talking to the bot.

A user types `hjelp`, sees the help card in bokmål (a Norwegian command gets the målform, though
the Playground's client says en-US), presses its "Om KI-vett" button (Action.Execute) and sees the
about card, in the help card's language, replace the help card in place. Screenshots go to
test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from content import load_catalog
from tests.e2e.browser_helpers import (
    card_with_heading,
    composer,
    open_page,
    require_chromium,
    screenshot,
    send,
)
from tests.e2e.playground import ROOT, run_bot, run_playground

ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 30_000


@contextmanager
def connected_page(tmp_path: Path) -> Iterator[Page]:
    """The bot (dev mode), the Playground and its page in Chromium, loaded and connected."""
    require_chromium()
    data_dir = tmp_path / "data"
    workdir = tmp_path / "playground"
    data_dir.mkdir()
    workdir.mkdir()
    with (
        run_bot(data_dir, tmp_path / "bot.log") as bot,
        run_playground(bot.endpoint, workdir) as playground,
        open_page(playground.base, timeout_ms=TIMEOUT_MS) as page,
    ):
        # Loaded: the composer is editable and the Playground has reached the bot.
        expect(composer(page)).to_be_editable(timeout=TIMEOUT_MS)
        expect(page.get_by_text("Connected.", exact=True).last).to_be_visible(timeout=TIMEOUT_MS)
        yield page


@pytest.mark.e2e
@pytest.mark.browser
def test_help_card_about_button_in_playground_page(tmp_path: Path) -> None:
    t = load_catalog().texts("nb")  # `hjelp` is Norwegian: the målform, whatever the locale
    with connected_page(tmp_path) as page:
        send(page, "hjelp")

        help_card = card_with_heading(page, t("help.title"))
        expect(help_card).to_be_visible(timeout=TIMEOUT_MS)
        about_button = help_card.get_by_role("button", name=t("help.button_about"), exact=True)
        expect(about_button).to_be_visible(timeout=TIMEOUT_MS)
        help_card.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "playground-help-card.png")

        about_button.click()

        about_card = card_with_heading(page, t("about.title"))
        expect(about_card).to_be_visible(timeout=TIMEOUT_MS)
        expect(about_card.get_by_text(t("about.body"))).to_be_visible(timeout=TIMEOUT_MS)
        expect(about_card.get_by_text(t("about.privacy"))).to_be_visible(timeout=TIMEOUT_MS)
        # Action.Execute swaps the card in place: the help card is gone, not merely followed.
        expect(page.get_by_role("heading", name=t("help.title"), exact=True)).to_have_count(0)
        about_card.scroll_into_view_if_needed()
        final = screenshot(page, ARTIFACTS / "playground-help.png")

    assert final.stat().st_size > 0
    bot_log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert not re.search(r'"level": "(ERROR|CRITICAL)"', bot_log), bot_log[-3000:]


@pytest.mark.e2e
@pytest.mark.browser
def test_ki_sjekk_red_flag_ticked_in_the_playground_page_gives_red(tmp_path: Path) -> None:
    """The five steps clicked in the real card renderer: radio buttons, then a checkbox on the
    red-flags step (a multi-select the client sends as a comma-separated value). `ki-sjekk` is
    a Norwegian command: every step comes in bokmål."""
    t = load_catalog().texts("nb")
    with connected_page(tmp_path) as page:
        send(page, "ki-sjekk")

        def step(number: int) -> Locator:
            card = card_with_heading(page, t("kisjekk.title"))
            label = t("kisjekk.step", number=number, total=5)
            expect(card.get_by_text(label, exact=True)).to_be_visible(timeout=TIMEOUT_MS)
            return card

        def pick(card: Locator, role: str, name: str) -> None:
            card.get_by_role(role, name=name, exact=True).check()  # type: ignore[arg-type]

        card = step(1)
        pick(card, "radio", t("task.code"))
        card.get_by_role("button", name=t("kisjekk.next"), exact=True).click()
        card = step(2)
        pick(card, "radio", "Microsoft 365 Copilot (lisens)")
        card.get_by_role("button", name=t("kisjekk.next"), exact=True).click()
        card = step(3)
        open_name = f"{t('category.open.name')} – {t('category.open.description')}"
        pick(card, "radio", open_name)
        card.get_by_role("button", name=t("kisjekk.next"), exact=True).click()
        card = step(4)
        pick(card, "radio", t("use.none"))
        card.get_by_role("radio", name=t("kisjekk.answer_no"), exact=True).last.check()
        card.get_by_role("button", name=t("kisjekk.next"), exact=True).click()
        card = step(5)
        # the checkbox's accessible name joins the question and the choice: find it by its own label
        card.locator(f'input[type="checkbox"][aria-label="{t("flag.secrets")}"]').check()
        card.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "playground-ki-flags.png")
        card.get_by_role("button", name=t("kisjekk.show_verdict"), exact=True).click()

        verdict = card_with_heading(page, t("kisjekk.title"))
        expect(verdict.get_by_text(t("kisjekk.verdict_red"))).to_be_visible(timeout=TIMEOUT_MS)
        expect(verdict.get_by_text(f"• {t('rule.secrets')}", exact=True)).to_be_visible()
        verdict.scroll_into_view_if_needed()
        final = screenshot(page, ARTIFACTS / "playground-ki-verdict.png")

    assert final.stat().st_size > 0
