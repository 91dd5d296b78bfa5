"""`kivett sharepoint setup`: create or complete the learning-card list, then explain the grant.

`bot.cli` parses the arguments, builds the `ListChoices` from content and calls `run_setup`.
msgraph-sdk is imported only when the command runs.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TextIO

from bot.core.sharepoint_schema import ListChoices, columns

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from bot.adapters.sharepoint.setup import SetupReport
    from bot.settings import Settings

__all__ = ["SETUP_RETRIES", "run_setup", "setup"]

# A person runs this once and waits: let the SDK honour Retry-After a few times itself.
SETUP_RETRIES = 3


def run_setup(
    settings: Settings,
    site: str,
    list_name: str,
    choices: ListChoices,
    out: TextIO,
    *,
    credential: AsyncTokenCredential | None = None,
) -> int:
    """Provision `list_name` on `site`, print what was done and the grant instructions.
    Returns the exit code: 0 done, 1 failed (the reason is printed, never a token).

    `credential` replaces the one from the settings (an admin's, or a test's static token)."""
    return asyncio.run(setup(settings, site, list_name, choices, out, credential=credential))


async def setup(
    settings: Settings,
    site: str,
    list_name: str,
    choices: ListChoices,
    out: TextIO,
    *,
    credential: AsyncTokenCredential | None = None,
) -> int:
    """`run_setup` for callers that already run an event loop."""
    from bot.adapters.sharepoint.graph_client import (
        GraphSetupError,
        connect,
        connect_with_credential,
    )
    from bot.adapters.sharepoint.setup import ensure_list, grant_instructions
    from bot.adapters.sharepoint.sink import sink_error

    try:
        connection = (
            connect_with_credential(credential, settings.graph_base_url, retries=SETUP_RETRIES)
            if credential is not None
            else connect(settings, retries=SETUP_RETRIES)
        )
    except GraphSetupError as exc:
        out.write(f"Kan ikke logge inn i Microsoft Graph: {exc}\n")
        return 1
    try:
        report = await ensure_list(connection.client, site, list_name, columns(choices))
    except Exception as exc:
        error = sink_error(exc, "sharepoint setup")
        if error is None:
            raise
        out.write(f"Oppsettet feilet: {error.reason}\n")
        return 1
    finally:
        await connection.aclose()
    out.write(_describe(report, list_name))
    out.write("\n")
    out.write(
        grant_instructions(report.site_id, settings.app_id or "<app-id>", settings.graph_base_url)
    )
    return 0


def _describe(report: SetupReport, list_name: str) -> str:
    lines = [f"Område-id: {report.site_id}", f"Liste: {list_name} (id {report.list_id})"]
    if report.list_created:
        lines.append(f"Listen ble opprettet med {len(report.columns_added)} kolonner.")
    elif report.columns_added:
        lines.append("Listen fantes. La til kolonner: " + ", ".join(report.columns_added))
    else:
        lines.append("Listen fantes og har alle kolonnene. Ingenting ble endret.")
    if report.columns_present and not report.list_created:
        lines.append("Fantes fra før: " + ", ".join(report.columns_present))
    return "\n".join(lines) + "\n"
