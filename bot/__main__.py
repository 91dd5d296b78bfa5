"""`python -m bot` is the same as the `kivett` console script."""

import gc

# Importing the bot makes objects that live as long as the process (modules, classes); collecting
# while they are made costs a server's start tens of milliseconds and finds almost nothing.
# bot.cli.main switches the collector back on, and `kivett serve` pauses it for its own start-up
# (bot/cli.py: _serve; bot/teams/app.py: started).
gc.disable()

from bot.cli import main  # noqa: E402 - after pausing the collector

raise SystemExit(main())
