"""Every combination the KI-sjekk can be asked, for the decision table a personvernombud signs
and for tests over the whole matrix."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from bot.core.policy.model import Answers, Policy


def flag_options(policy: Policy) -> tuple[frozenset[str], ...]:
    """No red flag, or each red flag on its own (each has its own rule; together they only add
    reasons)."""
    return (frozenset(), *(frozenset({flag}) for flag in policy.red_flags))


def all_answers(policy: Policy) -> Iterator[Answers]:
    """Task × tool × information × use × publishing × red flag, in content order."""
    for task, tool, category, use, published, flags in itertools.product(
        policy.tasks,
        policy.tools,
        policy.category_answers,
        policy.uses,
        (False, True),
        flag_options(policy),
    ):
        yield Answers(
            task=task.id,
            tool=tool.id,
            category=category,
            decision=use.id,
            published=published,
            flags=flags,
        )
