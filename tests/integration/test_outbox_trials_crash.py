"""Kill the bot (SIGKILL) while trials and the learning cards filed under them are on their way to
SharePoint, start it again: every trial and every card is in its list exactly once, and each card
links to its trial's item.

The real bot process (`kivett serve --dev`) writes to the stateful fake Graph, whose two lists
were made by `kivett sharepoint setup`'s code. The trials and cards are in the bot's database when
it starts (as the trial and learning-card flows store them). Graph first makes some trial items
but answers 504 (the bot cannot know they exist), then answers 503 to every create; the bot is
killed, Graph recovers, the bot starts again on the same data directory.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import closing
from pathlib import Path

from bot.adapters.sharepoint.factory import LOCAL_DEV_TOKEN
from bot.adapters.sqlite.db import SqliteDatabase
from bot.adapters.sqlite.learning import SqliteLearningCardStore
from bot.adapters.sqlite.trials import SqliteTrialStore
from bot.bootstrap import DATABASE_FILE
from bot.core.sharepoint_schema import TRIAL_LOOKUP_FIELD
from tests.e2e.playground import run_bot
from tests.fakes.graph import FakeGraph
from tests.fakes.outbox_items import (
    CARDS_LIST,
    TRIALS_LIST,
    card,
    crash_then_outage,
    provision_both,
    trial,
)

TRIALS = 6
AMBIGUOUS = 3
CARDS_PER_TRIAL = 2
LOOSE_CARDS = 2  # filed under no trial


def _states(data_dir: Path) -> set[str]:
    with closing(sqlite3.connect(data_dir / DATABASE_FILE, timeout=10)) as conn:
        trials = conn.execute("SELECT state FROM trials").fetchall()
        cards = conn.execute("SELECT state FROM learning_cards").fetchall()
    return {state for (state,) in trials + cards}


async def _store(data_dir: Path) -> dict[str, str]:
    """Trials and cards in the bot's database; returns card id → its trial id ("" for none)."""
    db = SqliteDatabase(data_dir / DATABASE_FILE)
    await db.open()
    trials, cards = SqliteTrialStore(db), SqliteLearningCardStore(db)
    filed: dict[str, str] = {}
    for t in range(TRIALS):
        assert await trials.add(trial(f"t{t}"))
        for c in range(CARDS_PER_TRIAL):
            filed[f"c{t}-{c}"] = f"t{t}"
    filed |= {f"loose-{c}": "" for c in range(LOOSE_CARDS)}
    for card_id, trial_id in filed.items():
        assert await cards.add(card(card_id, trial_id))
    await db.close()
    return filed


async def test_a_kill_mid_delivery_then_a_restart_leaves_each_trial_and_card_once_linked(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    filed = await _store(data_dir)
    async with FakeGraph(token=LOCAL_DEV_TOKEN) as graph:
        site_id = await provision_both(graph)
        env = crash_then_outage(graph, AMBIGUOUS) | {"KIVETT_SHAREPOINT_TRIALS_LIST": TRIALS_LIST}
        refused = TRIALS - AMBIGUOUS + LOOSE_CARDS  # what the first attempts meet as 503
        with run_bot(data_dir, tmp_path / "bot-1.log", extra_env=env) as bot:
            deadline = time.monotonic() + 30
            while graph.by_status[503] < refused and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            bot.process.kill()  # SIGKILL: no clean shutdown
            bot.process.wait(timeout=10)
        assert graph.by_status[503] >= refused
        assert graph.items_created == AMBIGUOUS  # trial items made, but the bot saw a 504
        assert graph.items(site_id, CARDS_LIST) == []  # no card went ahead of its trial
        assert _states(data_dir) == {"pending"}  # nothing was lost at the kill

        graph.clear_script()  # Graph is back
        with run_bot(data_dir, tmp_path / "bot-2.log", extra_env=env):
            deadline = time.monotonic() + 60
            while _states(data_dir) != {"delivered"} and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        trial_items = graph.items(site_id, TRIALS_LIST)
        card_items = graph.items(site_id, CARDS_LIST)
        assert sorted(item["UtprovingId"] for item in trial_items) == [
            f"t{t}" for t in range(TRIALS)
        ]
        assert sorted(item["KortId"] for item in card_items) == sorted(filed)
        assert graph.items_created == TRIALS + len(filed)  # exactly once each
        item_of_trial = {item["UtprovingId"]: item["id"] for item in trial_items}
        links = {item["KortId"]: item.get(TRIAL_LOOKUP_FIELD, "") for item in card_items}
        assert links == {c: item_of_trial[t] if t else "" for c, t in filed.items()}
        assert _states(data_dir) == {"delivered"}
        assert graph.violations == []
