"""Start the bot (dev mode) and the Microsoft 365 Agents Playground once per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.playground import (
    BotProcess,
    PlaygroundProcess,
    run_bot,
    run_playground,
    stop_process,
)


@dataclass
class Stack:
    bot: BotProcess
    playground: PlaygroundProcess


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("e2e")
    data_dir = workdir / "data"  # only the bot's own files: the logs live beside it
    data_dir.mkdir()
    with run_bot(data_dir, workdir / "bot.log") as bot, run_playground(bot.endpoint, workdir) as pg:
        try:
            yield Stack(bot=bot, playground=pg)
        finally:
            # the bot first, while the Playground still answers: a reply on its way when the
            # last test ends is delivered instead of failing in the bot's log
            stop_process(bot.process)
