"""Placeholder content is found wherever it is, named by file and path with what to do, and real
content gives no warnings."""

from __future__ import annotations

from importlib import resources

from bot.core.content_warnings import ContentWarning, placeholder_warnings
from content import read_yaml


def _shipped() -> dict[str, object]:
    """Every YAML file shipped in content/, parsed, by its path inside content/."""
    root = resources.files("content")
    names = [e.name for e in root.iterdir() if e.name.endswith(".yaml")]
    names += [
        f"{folder.name}/{e.name}"
        for folder in root.iterdir()
        if folder.is_dir()
        for e in folder.iterdir()
        if e.name.endswith(".yaml")
    ]
    assert "policy.yaml" in names
    assert "nb/texts.yaml" in names
    return {name: read_yaml(name) for name in names}


def _real_looking(node: object) -> object:
    """The same content as a municipality would fill it in."""
    if isinstance(node, str):
        return (
            node.replace("www.example.no", "www.ringsaker.kommune.no")
            .replace("example.no", "ringsaker.kommune.no")
            .replace("Eksempel kommune", "Ringsaker kommune")
        )
    if isinstance(node, dict):
        return {key: _real_looking(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_real_looking(item) for item in node]
    return node


def _where(warnings: tuple[ContentWarning, ...]) -> set[tuple[str, str, str]]:
    return {(w.file, w.path, w.found) for w in warnings}


def test_the_shipped_content_is_not_ready_for_production() -> None:
    warnings = placeholder_warnings(_shipped())
    where = _where(warnings)
    assert ("policy.yaml", "municipality.name", "Eksempel kommune") in where
    assert (
        "policy.yaml",
        "contacts.privacy_officer.email",
        "personvernombud@example.no",
    ) in where
    assert (
        "policy.yaml",
        "sources[guideline].url",
        "https://www.example.no/ki/retningslinjer",
    ) in where
    officer = next(w for w in warnings if w.path == "contacts.privacy_officer.email")
    assert "personvernombud" in officer.advice
    assert officer.line().startswith(
        "content/policy.yaml, contacts.privacy_officer.email: 'personvernombud@example.no' "
    )


def test_content_filled_in_with_real_looking_values_gives_no_warnings() -> None:
    shipped = _shipped()
    assert placeholder_warnings(shipped)
    assert placeholder_warnings({n: _real_looking(d) for n, d in shipped.items()}) == ()


def test_links_and_addresses_on_every_example_domain_are_found_in_texts_too() -> None:
    files = {
        "nb/texts.yaml": {
            "help": {
                "contact": "Skriv til kari@post.example.org eller se https://EXAMPLE.COM/hjelp.",
                "more": "Les mer på www.example.net/ki, eller på example.no.",
            }
        }
    }
    found = [(w.path, w.found) for w in placeholder_warnings(files)]
    assert found == [
        ("help.contact", "kari@post.example.org"),
        ("help.contact", "https://EXAMPLE.COM/hjelp"),
        ("help.more", "www.example.net/ki"),
        ("help.more", "example.no"),
    ]
    warnings = placeholder_warnings(files)
    assert "e-mail" in warnings[0].advice
    assert "link" in warnings[1].advice


def test_words_that_only_look_like_placeholders_are_left_alone() -> None:
    files = {
        "nb/texts.yaml": {
            "learning": {"example_title": "Eksempel fra {area}"},
            "a": "counterexample.no og example.norge.no og eksempelkommune",
            "b": "Kommunen har et eksempel. Kommune-eksempel.",
        },
        "policy.yaml": {"contacts": {"privacy_officer": {"email": "pvo@ringsaker.kommune.no"}}},
    }
    assert placeholder_warnings(files) == ()


def test_a_list_item_is_named_by_its_id_or_else_its_position() -> None:
    files = {
        "policy.yaml": {
            "sources": [{"id": "vettregler", "url": "https://www.example.no/ki/vettregler"}],
            "names": ["Ringsaker kommune", "Eksempel Kommune"],
        }
    }
    assert _where(placeholder_warnings(files)) == {
        ("policy.yaml", "sources[vettregler].url", "https://www.example.no/ki/vettregler"),
        ("policy.yaml", "names[1]", "Eksempel Kommune"),
    }
