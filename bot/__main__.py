"""`python -m bot` is the same as the `kivett` console script."""

from bot.cli import main

raise SystemExit(main())
