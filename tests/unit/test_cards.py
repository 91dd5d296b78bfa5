from __future__ import annotations

import itertools
from importlib import resources
from typing import Any

import pytest

from cards.renderer import CardRenderer
from cards.verbs import PAYLOAD_VERSION, Verb
from cards.views import HelpView
from content import LANGUAGES, Texts, load_catalog
from tests.card_tree import actions
from tests.node import adaptive_card_findings
from tests.sample_views import SAMPLE_VIEWS


@pytest.fixture(scope="module")
def all_cards() -> list[tuple[str, str, dict[str, Any]]]:
    renderer, catalog = CardRenderer(), load_catalog()
    return [
        (lang, view.template, renderer.render(view, catalog.texts(lang)))
        for lang in LANGUAGES
        for view in SAMPLE_VIEWS
    ]


def test_every_card_in_every_language_passes_microsofts_parser_with_zero_events(
    all_cards: list[tuple[str, str, dict[str, Any]]],
) -> None:
    findings = adaptive_card_findings([card for _, _, card in all_cards])
    problems = {
        f"{lang}/{template}": found
        for (lang, template, _), found in zip(all_cards, findings, strict=True)
        if found
    }
    assert problems == {}


def test_the_parser_check_does_catch_a_broken_card() -> None:
    broken = {
        "type": "AdaptiveCard",
        "version": "1.5",
        "body": [{"type": "Input.Text", "id": "x", "isRequired": True}, {"type": "Nonsense"}],
    }
    [findings] = adaptive_card_findings([broken])
    events = {f["event"] for f in findings}
    assert {"RequiredInputsShouldHaveLabel", "UnknownElementType"} <= events


def test_every_template_has_a_sample_view_so_none_escapes_the_parser_check() -> None:
    templates = {
        entry.name
        for entry in resources.files("cards").joinpath("templates").iterdir()
        if entry.name.endswith(".json.j2") and not entry.name.startswith("_")
    }
    assert templates == {view.template for view in SAMPLE_VIEWS}


def test_cards_are_schema_1_5_and_every_button_is_action_execute_with_a_known_verb(
    all_cards: list[tuple[str, str, dict[str, Any]]],
) -> None:
    for _, _, card in all_cards:
        assert card["version"] == "1.5"
        buttons = [a for a in actions(card) if a["type"] != "Action.ToggleVisibility"]
        assert buttons, "every card offers a way forward"
        links = [a for a in buttons if a["type"] == "Action.OpenUrl"]
        # the only link out: the leads' summary opens the SharePoint list (an https address)
        assert all(link["url"].startswith("https://") for link in links)
        for action in (a for a in buttons if a not in links):
            assert action["type"] == "Action.Execute"
            assert action["verb"] in {verb.value for verb in Verb}
            assert action["data"]["v"] == PAYLOAD_VERSION
            assert all(
                isinstance(value, str) for key, value in action["data"].items() if key != "v"
            )


def test_hostile_text_is_json_encoded_not_spliced() -> None:
    catalog = load_catalog()
    hostile = '"}], "actions": [{"type": "Action.OpenUrl", "url": "https://evil"}], "x": [{"'
    entries = dict.fromkeys(catalog.texts("nb").entries, hostile)
    card = CardRenderer().render(HelpView(), Texts(language="nb", entries=entries))
    assert card["body"][0]["text"] == hostile
    assert all(action["type"] == "Action.Execute" for action in actions(card))


def test_a_missing_text_fails_rendering_instead_of_leaving_a_hole() -> None:
    with pytest.raises(Exception, match=r"help\.title"):
        CardRenderer().render(HelpView(), Texts(language="nb", entries={}))


def _dialog_cards() -> list[tuple[str, dict[str, Any]]]:
    """Every kind of card KI-sjekken and the text check really produce, in every language."""
    from bot.content_loader import load_content
    from bot.core.extraction import extract
    from dialogs import text_check
    from dialogs.actions import CardAction
    from dialogs.ki_check import KiCheckDialog

    content = load_content()
    dialog = KiCheckDialog(content.policy)
    renderer = CardRenderer()
    aliases = {tool.id: tool.aliases for tool in content.policy.tools}
    cards: list[tuple[str, dict[str, Any]]] = []
    for lang in LANGUAGES:
        texts = content.catalog.texts(lang)

        def press(verb: Verb, _texts: Any = texts, **data: str) -> Any:
            return dialog.handle(_texts, CardAction(verb=verb, data={"v": "1", **data})).view

        views: list[Any] = [
            dialog.start(texts),
            press(Verb.KI_NEXT, step="task", choice="summarise"),
            press(Verb.KI_NEXT, step="tool", task="summarise", choice="chatgpt"),
            press(Verb.KI_NEXT, step="category", task="summarise", tool="chatgpt", choice="open"),
            press(Verb.KI_NEXT, step="task", choice="ghost"),
            dialog.understood(
                texts, extract("kan jeg bruke Claude til kode?", content.lexicon, aliases)
            ),
            text_check.open_view(),
            text_check.run(texts, {"text": "Ring 912 34 567, Storgata 5, kari@example.no."}),
            text_check.run(texts, {"text": "Ingen personopplysninger her."}),
            text_check.run(texts, {"text": "x" * 20_001}),
        ]
        for task, tool in itertools.product(
            ("decide_individual", "write"),
            ("chatgpt", "copilot_chat", "m365_copilot", "case_system_ai", "unknown_tool"),
        ):
            for category in (*content.policy.categories, "unsure"):
                for people, publish in (("no", "no"), ("yes", "yes")):
                    views.append(
                        press(
                            Verb.KI_NEXT,
                            step="more",
                            task=task,
                            tool=tool,
                            category=category,
                            people=people,
                            publish=publish,
                        )
                    )
        cards += [(f"{lang}/{type(view).__name__}", renderer.render(view, texts)) for view in views]
    return cards


def test_every_card_the_dialogs_produce_passes_microsofts_parser_with_zero_events() -> None:
    cards = _dialog_cards()
    assert len(cards) > 150
    findings = adaptive_card_findings([card for _, card in cards])
    problems = [(name, found) for (name, _), found in zip(cards, findings, strict=True) if found]
    assert problems == []


def test_only_teams_people_picker_may_take_its_choices_from_the_directory() -> None:
    def picker(query: dict[str, str]) -> dict[str, object]:
        return {
            "type": "AdaptiveCard",
            "version": "1.5",
            "body": [
                {
                    "type": "Input.ChoiceSet",
                    "id": "participants",
                    "isMultiSelect": True,
                    "choices": [],
                    "choices.data": query,
                }
            ],
        }

    people = {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}
    elsewhere = {"type": "Data.Query", "dataset": "graph.microsoft.com/groups"}
    accepted, refused = adaptive_card_findings([picker(people), picker(elsewhere)])
    assert accepted == []
    assert refused, "any other query is reported"
