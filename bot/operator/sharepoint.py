"""`kivett sharepoint setup`: create or complete the trials list and the learning-card list (with
its lookup column to the trials list), then explain the grant.

`bot.cli` parses the arguments, builds the `ListChoices` from content and calls `run_setup`.
msgraph-sdk and azure-identity are imported only when the command runs.

Two ways to sign in:
- the bot's own credentials from the settings (secret, certificate or managed identity), which
  work only if the bot's app has been given the right to manage the site;
- a person, by device code (`PersonSignIn`): azure-identity's `DeviceCodeCredential` with the client
  id of a public-client app registration ("KI-vett setup", see the README) and the one delegated
  permission creating a list and its columns needs, `Sites.Manage.All`. What a delegated token may
  do is also limited by what the person may do on the site.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TextIO

from bot.core.sharepoint_schema import TRIAL_LOOKUP, ListChoices, columns, trial_columns

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.core.credentials_async import AsyncTokenCredential

    from bot.adapters.sharepoint.setup import SetupReport
    from bot.settings import Settings

__all__ = [
    "DEVICE_CODE_TIMEOUT_SECONDS",
    "SETUP_RETRIES",
    "PersonSignIn",
    "PromptCallback",
    "device_code_credential",
    "run_setup",
    "setup",
]

# A person runs this once and waits: let the SDK honour Retry-After a few times itself.
SETUP_RETRIES = 3
# How long the command waits for the person to sign in (Entra's code lives about 15 minutes).
DEVICE_CODE_TIMEOUT_SECONDS = 900

PromptCallback = Callable[[str, str, datetime], None]
"""azure-identity's device-code prompt: (verification address, user code, code expires at)."""
CredentialFactory = Callable[[str, str, PromptCallback], "TokenCredential"]
"""(tenant id, client id, prompt) → a synchronous azure-identity credential."""


def device_code_credential(
    tenant_id: str, client_id: str, prompt: PromptCallback
) -> TokenCredential:
    """azure-identity's `DeviceCodeCredential` for a person of `tenant_id` signing in to the app
    registration `client_id`; `prompt` shows the address and the code."""
    from azure.identity import DeviceCodeCredential

    return DeviceCodeCredential(
        client_id,
        tenant_id=tenant_id,
        prompt_callback=prompt,
        timeout=DEVICE_CODE_TIMEOUT_SECONDS,
    )


@dataclass(frozen=True)
class PersonSignIn:
    """Sign in as a person by device code instead of with the bot's credentials."""

    client_id: str
    """The public-client app registration the person signs in to ("KI-vett setup")."""
    tenant_id: str
    """The municipality's Entra tenant id."""
    make_credential: CredentialFactory = field(default=device_code_credential)
    """Tests pass a factory whose credential calls the prompt and returns a test token."""


def run_setup(
    settings: Settings,
    site: str,
    list_name: str,
    choices: ListChoices,
    out: TextIO,
    *,
    credential: AsyncTokenCredential | None = None,
    person: PersonSignIn | None = None,
    bot_app_id: str = "",
    trials_list: str = "",
) -> int:
    """Provision the trials list (`trials_list`, default from the settings) and the learning-card
    list `list_name` on `site`, print what was done and the grant instructions.
    Returns the exit code: 0 done, 1 failed (the reason is printed, never a token).

    `credential` replaces the one from the settings (a test's static token); `person` signs in a
    person by device code. `bot_app_id` is the app the grant is for (default: MicrosoftAppId)."""
    return asyncio.run(
        setup(
            settings,
            site,
            list_name,
            choices,
            out,
            credential=credential,
            person=person,
            bot_app_id=bot_app_id,
            trials_list=trials_list,
        )
    )


async def setup(
    settings: Settings,
    site: str,
    list_name: str,
    choices: ListChoices,
    out: TextIO,
    *,
    credential: AsyncTokenCredential | None = None,
    person: PersonSignIn | None = None,
    bot_app_id: str = "",
    trials_list: str = "",
) -> int:
    """`run_setup` for callers that already run an event loop."""
    from azure.core.exceptions import ClientAuthenticationError

    from bot.adapters.sharepoint.graph_client import (
        SITES_MANAGE_SCOPE,
        GraphConnection,
        GraphSetupError,
        InThreadCredential,
        connect,
        connect_with_credential,
    )
    from bot.adapters.sharepoint.setup import ensure_list, grant_instructions
    from bot.adapters.sharepoint.sink import sink_error

    connection: GraphConnection
    try:
        if person is not None:
            signed_in = InThreadCredential(
                person.make_credential(person.tenant_id, person.client_id, _prompt(out))
            )
            out.write(
                f"Logger inn som en person i appen {person.client_id} "
                f"(delegert tillatelse: Sites.Manage.All).\n"
            )
            out.flush()
            connection = connect_with_credential(
                signed_in,
                settings.graph_base_url,
                retries=SETUP_RETRIES,
                scopes=[SITES_MANAGE_SCOPE],
            )
            connection = GraphConnection(
                connection.client, connection.http, signed_in, owns_credential=True
            )
        elif credential is not None:
            connection = connect_with_credential(
                credential, settings.graph_base_url, retries=SETUP_RETRIES
            )
        else:
            connection = connect(settings, retries=SETUP_RETRIES)
    except GraphSetupError as exc:
        out.write(f"Kan ikke logge inn i Microsoft Graph: {exc}\n")
        return 1
    trials_name = trials_list or settings.sharepoint_trials_list
    try:
        # the trials list first: the learning-card list's lookup column needs its id
        trials = await ensure_list(connection.client, site, trials_name, trial_columns(choices))
        report = await ensure_list(
            connection.client,
            trials.site_id,
            list_name,
            (*columns(choices), TRIAL_LOOKUP),
            lookup_list_id=trials.list_id,
        )
    except Exception as exc:
        if person is not None and isinstance(exc, ClientAuthenticationError):
            out.write(_sign_in_failed(exc))
            return 1
        error = sink_error(exc, "sharepoint setup")
        if error is None:
            raise
        out.write(f"Oppsettet feilet: {error.reason}\n")
        if person is not None and "HTTP 403" in error.reason:
            out.write(
                "Den som logget inn, må selv kunne administrere lister på området "
                "(eier, eller medlem med rettigheten «Administrer lister»).\n"
            )
        return 1
    finally:
        await connection.aclose()
    out.write(_describe(trials, trials_name))
    out.write(_describe(report, list_name, with_site=False))
    out.write("\n")
    out.write(
        grant_instructions(
            report.site_id,
            bot_app_id or settings.app_id or "<app-id>",
            settings.graph_base_url,
            person.tenant_id if person is not None else settings.app_tenant_id,
        )
    )
    return 0


def _prompt(out: TextIO) -> PromptCallback:
    """The device-code prompt: where to go, the code, and until when it works."""

    def prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
        until = expires_on.astimezone().strftime("%H:%M")
        out.write(
            "\n"
            "  Logg inn for å opprette listen:\n"
            f"    1. Åpne {verification_uri} i en nettleser (gjerne på en annen maskin).\n"
            f"    2. Skriv inn koden   {user_code}\n"
            "    3. Logg inn med kontoen din og godta at appen kan administrere lister.\n"
            f"  Koden gjelder til kl. {until}. Venter på innloggingen …\n"
            "\n"
        )
        out.flush()

    return prompt


# Sign-in errors an admin can fix, by Entra's error code (AADSTS…).
_SIGN_IN_HINTS = {
    "AADSTS7000218": "slå på «Allow public client flows» under Authentication i app-registreringen",
    "AADSTS700016": "app-id-en finnes ikke i denne tenanten: sjekk --client-id og --tenant",
    "AADSTS50105": "kontoen din er ikke tildelt appen (Enterprise applications → Users and groups)",
    "AADSTS65001": "appen mangler samtykke til Sites.Manage.All: gi administratorsamtykke",
    "AADSTS53003": "en Conditional Access-regel stopper innlogging med kode for denne appen",
}


def _sign_in_failed(exc: Exception) -> str:
    """One line, two with a hint: the Entra error code when there is one, never a token."""
    codes = re.findall(r"AADSTS\d+", str(exc))
    code = codes[0] if codes else ""
    lines = [f"Innloggingen feilet{f' ({code})' if code else ''}."]
    hint = _SIGN_IN_HINTS.get(code)
    if hint:
        lines.append(f"Løsning: {hint}.")
    elif "timed out" in str(exc).lower():
        lines.append("Løsning: innloggingen ble ikke fullført i tide: prøv igjen.")
    return "\n".join(lines) + "\n"


def _describe(report: SetupReport, list_name: str, *, with_site: bool = True) -> str:
    lines = [f"Område-id: {report.site_id}"] if with_site else []
    lines.append(f"Liste: {list_name} (id {report.list_id})")
    if report.list_created:
        lines.append(f"Listen ble opprettet med {len(report.columns_added)} kolonner.")
    elif report.columns_added:
        lines.append("Listen fantes. La til kolonner: " + ", ".join(report.columns_added))
    else:
        lines.append("Listen fantes og har alle kolonnene. Ingenting ble endret.")
    if report.columns_present and not report.list_created:
        lines.append("Fantes fra før: " + ", ".join(report.columns_present))
    return "\n".join(lines) + "\n"
