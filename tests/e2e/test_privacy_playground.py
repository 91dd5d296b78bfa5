"""User text and masks stay inert in the Agents Playground page (issue 13.4), read in Chromium.

The Playground renders TextBlock and FactSet text as markdown, as Teams does. A person pastes a text
with an e-mail address, an identity number written with separators and some markdown of their own
into the text check, and a learning card is titled as a markdown link. What the page shows must be
the text as typed: no bold, no italics, no links, and of the identity number only the last two
digits. The card JSON the page received is checked too: the TextBlocks carry the escaped text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, Response, expect

from bot.content_loader import load_content
from content import load_catalog
from dialogs.learning_card import LearningCardDialog
from tests.card_tree import nodes
from tests.e2e.browser_helpers import (
    CARD,
    card_with_heading,
    composer,
    open_page,
    require_chromium,
    screenshot,
    send,
)
from tests.e2e.playground import ROOT, card_texts, run_bot, run_playground
from tests.e2e.test_lessons_playground import PLAYGROUND_USER_AAD

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# The Playground's user has locale en-US and writes English commands
# (`text check`, `learning card`, `summary`): the bot answers in English, and every button on an
# English card answers in English.
EN = load_catalog().texts("en")
CONTENT = load_content()
LABELS = LearningCardDialog(CONTENT.policy, CONTENT.service_areas).labels(EN)
ARTIFACTS = ROOT / "test-artifacts"
TIMEOUT_MS = 30_000
FORMATTING = "strong, b, em, i, a, code, del, s, h1, h2, h3, ul, ol, li, blockquote"
"""Elements a markdown renderer makes from `**`, `_`, `` ` ``, `~~`, `[..](..)`, `#`, `-`, `>`."""
MASK = "\u2022"  # •


@contextmanager
def connected_page(tmp_path: Path, extra_env: dict[str, str]) -> Iterator[Page]:
    """The bot (dev mode, with `extra_env`), the Playground and its page in Chromium, connected;
    afterwards, the bot logged no error."""
    require_chromium()
    data_dir = tmp_path / "data"
    workdir = tmp_path / "playground"
    data_dir.mkdir()
    workdir.mkdir()
    with (
        run_bot(data_dir, tmp_path / "bot.log", extra_env=extra_env) as bot,
        run_playground(bot.endpoint, workdir) as playground,
        open_page(playground.base, timeout_ms=TIMEOUT_MS) as page,
    ):
        expect(composer(page)).to_be_editable(timeout=TIMEOUT_MS)
        expect(page.get_by_text("Connected.", exact=True).last).to_be_visible(timeout=TIMEOUT_MS)
        yield page
    log = (tmp_path / "bot.log").read_text(encoding="utf-8", errors="replace")
    assert not re.search(r'"level": "(ERROR|CRITICAL)"', log), log[-3000:]


def _is_invoke(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/invoke")


def click_and_read_card(page: Page, button: Locator) -> dict[str, Any]:
    """Press an Action.Execute button in the page and return the card the page received for it
    (the Playground's answer to the page's invoke: the bot's replacement card)."""
    with page.expect_response(_is_invoke, timeout=TIMEOUT_MS) as answer:
        button.click()
    body = answer.value.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive", body
    value = body["value"]
    card = json.loads(value) if isinstance(value, str) else value
    assert isinstance(card, dict)
    return card


def text_block(card: Locator, has_text: str | re.Pattern[str]) -> Locator:
    """The one rendered TextBlock of `card` whose text contains `has_text`."""
    block = card.locator(".ac-textBlock").filter(has_text=has_text)
    expect(block).to_have_count(1, timeout=TIMEOUT_MS)
    return block


def assert_plain(block: Locator, shown: str) -> None:
    """`block` shows exactly `shown`, as plain text: no element a markdown renderer would make."""
    expect(block.locator(FORMATTING)).to_have_count(0)
    expect(block).to_have_text(shown, timeout=TIMEOUT_MS)


def field(card: Locator, label: str) -> Locator:
    """The input a card's label belongs to (the label's `for`); required labels end in ` *`."""
    name = re.compile(rf"^{re.escape(label)}( \*)?$")
    target = card.locator("label").filter(has_text=name).first.get_attribute("for")
    assert target, label
    return card.locator(f'[id="{target}"]')


def choose(page: Page, card: Locator, label: str, option: str) -> None:
    """Open a compact choice set (a combobox in this renderer) and click one option."""
    field(card, label).click()
    page.get_by_role("option", name=option, exact=True).click()


def valid_fodselsnummer(day: int, month: int, year: int) -> str:
    """A made-up fødselsnummer with valid check digits (for a person born `day.month.year`
    in the 1900s), built here rather than written down."""
    date = f"{day:02d}{month:02d}{year % 100:02d}"
    weights1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
    weights2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

    def check(digits: str, weights: tuple[int, ...]) -> int:
        remainder = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        return 0 if remainder == 11 else remainder

    for individual in range(371, 500):  # 000–499: born 1900–1999
        digits = f"{date}{individual:03d}"
        k1 = check(digits, weights1)
        if k1 == 10:
            continue
        k2 = check(f"{digits}{k1}", weights2)
        if k2 == 10:
            continue
        return f"{digits}{k1}{k2}"
    raise AssertionError(date)


def texts_of(card: dict[str, Any]) -> list[str]:
    """Every TextBlock text and every FactSet value the card JSON carries."""
    facts = [
        str(fact.get("value", ""))
        for node in nodes(card.get("body", []))
        if node.get("type") == "FactSet"
        for fact in node.get("facts", [])
    ]
    return card_texts(card) + facts


def test_text_check_shows_masks_and_pasted_markdown_as_plain_text(tmp_path: Path) -> None:
    fnr = valid_fodselsnummer(15, 3, 1985)
    written = f"{fnr[0:2]}.{fnr[2:4]}.{fnr[4:6]} {fnr[6:11]}"  # 15.03.85 37xxx
    pasted = (
        "Hei!\n"
        "**Frist:** fredag kl. 12. Søknaden om startlån må behandles før det.\n"
        f"Søker: ola.nordmann@eksempel.no, fødselsnummer {written}.\n"
        "_Sendt fra min iPhone_"
    )
    with connected_page(tmp_path, {}) as page:
        send(page, "text check")
        form = card_with_heading(page, EN("tekstsjekk.title"))
        box = field(form, EN("tekstsjekk.label"))
        expect(box).to_be_editable(timeout=TIMEOUT_MS)
        box.fill(pasted)  # pasted, as people do
        sent = click_and_read_card(
            page, form.get_by_role("button", name=EN("tekstsjekk.button_run"), exact=True)
        )

        result = card_with_heading(page, EN("tekstsjekk.title"))
        expect(result.get_by_text(EN("tekstsjekk.redacted_title"), exact=True)).to_be_visible(
            timeout=TIMEOUT_MS
        )
        result.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "playground-privacy-text-check.png")

        # The masks, each in its fact, as plain text: • visible, no bold, no link.
        email = text_block(result, "@")
        assert_plain(email, f"1: o{MASK * 3}@{MASK * 3}.no")
        number = text_block(result, re.compile(rf"^1: .*{fnr[-2:]}$"))
        assert_plain(number, f"1: {MASK * 6} {MASK * 3}{fnr[-2:]}")
        # The copy with placeholders shows the person's own markdown as typed.
        redacted = text_block(result, "Frist:")
        assert_plain(
            redacted,
            "Hei!\n"
            "**Frist:** fredag kl. 12. Søknaden om startlån må behandles før det.\n"
            "Søker: [E-POST], fødselsnummer [FØDSELSNUMMER].\n"
            "_Sendt fra min iPhone_",
        )
        shown = result.inner_text()

    # Neither the birth date nor more than the last two digits is on the page's card.
    for hidden in (written, fnr, fnr[:6], "15.03.85", fnr[6:9], "ola.nordmann", "eksempel"):
        assert hidden not in shown, hidden
    assert "[E-POST]" in shown
    assert "[FØDSELSNUMMER]" in shown

    # What the bot sent: the TextBlocks carry the escaped text, which renders as typed.
    sent_texts = texts_of(sent)
    assert f"1: o{MASK * 3}@{MASK * 3}.no" in sent_texts
    assert f"1: {MASK * 6} {MASK * 3}{fnr[-2:]}" in sent_texts
    [copy] = [text for text in sent_texts if "Frist:" in text]
    assert copy == (
        "Hei!\n"
        "\\*\\*Frist:\\*\\* fredag kl. 12. Søknaden om startlån må behandles før det.\n"
        "Søker: \\[E-POST\\], fødselsnummer \\[FØDSELSNUMMER\\].\n"
        "\\_Sendt fra min iPhone\\_"
    ), copy
    assert not any(fnr[:6] in text or written in text for text in sent_texts)


def test_a_card_titled_as_a_link_shows_as_plain_text_in_the_leads_summary(tmp_path: Path) -> None:
    title = "[Logg inn](https://login.example.com)"
    what = "Ba om et utkast til svarbrev og merket det som **viktig** før jeg leste det."
    tool = LABELS.tools["chatgpt"]  # an open service: with restricted data the card is flagged
    category = LABELS.categories["restricted"]
    env = {"KIVETT_LEADS": PLAYGROUND_USER_AAD}  # the Playground's own user is a project lead
    with connected_page(tmp_path, env) as page:
        send(page, "learning card")
        form = card_with_heading(page, EN("learning.title"))
        expect(field(form, EN("learning.label.title"))).to_be_editable(timeout=TIMEOUT_MS)
        field(form, EN("learning.label.title")).fill(title)
        choose(page, form, EN("learning.label.area"), LABELS.service_areas["technical"])
        choose(page, form, EN("learning.label.task"), LABELS.tasks["write"])
        choose(page, form, EN("learning.label.tool"), tool)
        field(form, EN("learning.label.what")).fill(what)
        field(form, EN("learning.label.result")).fill("Et brukbart utkast. Jeg rettet to frister.")
        form.get_by_role("radio", name="4", exact=True).check()
        field(form, EN("learning.label.minutes")).fill("15")
        field(form, EN("learning.label.per_month")).fill("4")
        choose(page, form, EN("learning.label.category"), category)
        form.get_by_role("radio", name=EN("learning.recommend.yes"), exact=True).check()
        form.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "playground-privacy-learning-form.png")
        saved = click_and_read_card(
            page, form.get_by_role("button", name=EN("learning.button_submit"), exact=True)
        )
        assert any(EN("learning.saved_title") in text for text in card_texts(saved)), saved

        thanks = page.locator(CARD).filter(has_text=EN("learning.saved_title")).last
        assert_plain(text_block(thanks, "Logg inn"), title)
        assert thanks.locator(FORMATTING).count() == 0, thanks.inner_html()

        send(page, "summary")
        summary = card_with_heading(page, EN("learning.summary.title"))
        expect(summary.get_by_text(EN("learning.summary.flagged"), exact=True)).to_be_visible(
            timeout=TIMEOUT_MS
        )
        line = text_block(summary, "Logg inn")
        reference_shown = line.inner_text().rpartition(" · ")[2]
        assert re.fullmatch(r"[0-9A-F]{8}", reference_shown), line.inner_text()
        assert_plain(line, f"• {title} ({tool}, {category}) · {reference_shown}")
        # nothing the employee typed turned bold or into a link anywhere in the summary
        assert summary.locator(FORMATTING).count() == 0, summary.inner_html()
        assert page.locator('a[href*="login.example.com"]').count() == 0
        summary.scroll_into_view_if_needed()
        screenshot(page, ARTIFACTS / "playground-privacy-summary.png")

        refreshed = click_and_read_card(
            page, summary.get_by_role("button", name=EN("learning.summary.refresh"), exact=True)
        )
        # the refreshed card, rendered again, is as plain as the first
        again = card_with_heading(page, EN("learning.summary.title"))
        assert_plain(
            text_block(again, "Logg inn"), f"• {title} ({tool}, {category}) · {reference_shown}"
        )
        assert page.locator('a[href*="login.example.com"]').count() == 0

    # What the bot sent: the title escaped so that no link can form.
    escaped = "\\[Logg inn\\](https://login.example.com)"
    assert escaped in texts_of(saved)
    flagged = [text for text in texts_of(refreshed) if "Logg inn" in text]
    assert flagged == [f"• {escaped} ({tool}, {category}) · {reference_shown}"], flagged
