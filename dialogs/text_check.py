"""The text check: find personal data in pasted text, in memory only.

The text arrives in the card's data, is scanned, and leaves only as the masked result in the
replacement card. It is never put in state, in a log line or in an exception message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from bot.core.commands import CommandName
from bot.core.privacy import MAX_TEXT_LENGTH, TextTooLongError, scan
from bot.core.privacy.names import NameLexicon
from cards.markdown import UserText
from cards.verbs import Verb
from cards.views import CardView, Fact, TextCheckResultView, TextCheckView
from content import Texts
from dialogs.flow import Reply, Request, Routes

MAX_EXAMPLES = 3


def open_view() -> CardView:
    return TextCheckView(limit=MAX_TEXT_LENGTH)


def run(texts: Texts, data: Mapping[str, object], names: NameLexicon | None = None) -> CardView:
    """Scan the card's `text` input (with person names, given the name lexicon) and return the
    result card."""
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        return TextCheckView(limit=MAX_TEXT_LENGTH, error=texts("tekstsjekk.empty"))
    try:
        result = scan(text, names)
    except TextTooLongError:
        return TextCheckView(
            limit=MAX_TEXT_LENGTH, error=texts("tekstsjekk.too_long", limit=MAX_TEXT_LENGTH)
        )
    examples: dict[str, list[str]] = defaultdict(list)
    for finding in result.findings:
        examples[finding.kind.value].append(finding.masked)
    rows = tuple(
        Fact(
            texts(f"tekstsjekk.kind.{kind}"),
            f"{len(masked)}: {UserText(', '.join(masked[:MAX_EXAMPLES]))}"
            + (" …" if len(masked) > MAX_EXAMPLES else ""),
        )
        for kind, masked in examples.items()
    )
    return TextCheckResultView(
        found=bool(result.findings),
        total=len(result.findings),
        rows=rows,
        redacted=UserText(result.redacted if result.findings else ""),
    )


class TextCheckFlow:
    """Opens the text check and answers it; the pasted text never leaves this call."""

    def __init__(self, names: NameLexicon | None = None) -> None:
        self._names = names

    def routes(self) -> Routes:
        return Routes(
            commands={CommandName.TEXT_CHECK: self.open},
            verbs={Verb.TEXT_OPEN: self.open, Verb.TEXT_RUN: self.run},
        )

    async def open(self, request: Request) -> Reply:
        return Reply(open_view())

    async def run(self, request: Request) -> Reply:
        return Reply(run(request.texts, request.data, self._names))
