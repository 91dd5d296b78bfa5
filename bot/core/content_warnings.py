"""Placeholder content a municipality must replace before it goes live: links and e-mail addresses
on the example domains (example.no, .com, .org, .net) and the example municipality's name.

Such content is valid (the bot runs on it), so these are warnings, not errors: `kivett content
check` prints them and says the content is not ready for production. Pure: it takes the parsed
YAML files (relative path → data) and returns the warnings; reading the files is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

PLACEHOLDER_DOMAINS = ("example.no", "example.com", "example.org", "example.net")
EXAMPLE_MUNICIPALITY = "Eksempel kommune"

_ON_EXAMPLE_DOMAIN = re.compile(
    r"(?P<mailbox>[\w.+-]+@)?(?P<scheme>https?://)?(?<![\w-])(?:[\w-]+\.)*"
    r"example\.(?:no|com|org|net)(?![\w-])[^\s\"'<>)\]]*",
    re.IGNORECASE,
)
_EXAMPLE_NAME = re.compile(r"(?<!\w)eksempel\s+kommune(?!\w)", re.IGNORECASE)


@dataclass(frozen=True)
class ContentWarning:
    file: str
    """The content file, relative to content/ (like 'policy.yaml' or 'nb/texts.yaml')."""
    path: str
    """Where in the file: dotted keys, list items by their id (`sources[guideline].url`)."""
    found: str
    """The placeholder as it stands in the file."""
    advice: str
    """What to put there instead."""

    def line(self) -> str:
        return f"content/{self.file}, {self.path}: '{self.found}' {self.advice}"


def placeholder_warnings(files: Mapping[str, object]) -> tuple[ContentWarning, ...]:
    """Every placeholder in the given parsed content files, in file and document order."""
    return tuple(
        warning
        for name in sorted(files)
        for path, text in _strings(files[name], "")
        for warning in _warnings_in(name, path, text)
    )


def _strings(node: object, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a parsed YAML document with where it is (keys are checked too)."""
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, Mapping):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield child, key
            yield from _strings(value, child)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            label = item.get("id") if isinstance(item, Mapping) else None
            yield from _strings(item, f"{path}[{label if isinstance(label, str) else index}]")


def _warnings_in(file: str, path: str, text: str) -> Iterator[ContentWarning]:
    for match in _ON_EXAMPLE_DOMAIN.finditer(text):
        found = match.group(0).rstrip(".,;:")
        yield ContentWarning(file, path, found, _advice_for_domain(match))
    for match in _EXAMPLE_NAME.finditer(text):
        yield ContentWarning(
            file,
            path,
            match.group(0),
            "is the example municipality: put in your municipality's name",
        )


def _advice_for_domain(match: re.Match[str]) -> str:
    if match.group("mailbox") and not match.group("scheme"):
        mailbox = match.group("mailbox").lower()
        if mailbox.startswith("personvernombud"):
            return (
                "is a placeholder address: put in your personvernombud's real e-mail address "
                "(KI-sjekken sends employees there)"
            )
        return "is a placeholder e-mail address: put in a real address employees can write to"
    return "is a placeholder link: replace it with the real address of the page it stands for"
