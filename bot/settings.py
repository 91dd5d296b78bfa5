"""Typed settings, read once from the environment (and an optional `.env` file).

Bot Framework names (`MicrosoftAppId`, …) are kept exactly as Azure and the Bot Framework docs
spell them, so an App Service configured for any Bot Framework bot works unchanged. Our own
settings are prefixed `KIVETT_`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

Malform = Literal["nb", "nn"]
"""The municipality's official written standard (målform): bokmål or nynorsk."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
StorageKind = Literal["sqlite", "azure"]
GraphCredentialKind = Literal["secret", "certificate", "managed_identity"]


class AppType(StrEnum):
    """How the bot proves who it is to Teams (the Azure Bot resource's app type)."""

    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


class Settings(BaseSettings):
    """Everything KI-vett reads from its environment. Validated once, at start-up."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        case_sensitive=True,
        extra="ignore",
        frozen=True,
        populate_by_name=False,
    )

    app_id: str = Field(default="", validation_alias="MicrosoftAppId")
    """The bot's Entra app (client) id. Empty means: no authentication (dev mode only)."""

    app_password: SecretStr = Field(default=SecretStr(""), validation_alias="MicrosoftAppPassword")
    """Client secret of the app registration (not used with UserAssignedMSI)."""

    app_type: AppType = Field(default=AppType.SINGLE_TENANT, validation_alias="MicrosoftAppType")
    """SingleTenant (recommended), MultiTenant or UserAssignedMSI."""

    app_tenant_id: str = Field(default="", validation_alias="MicrosoftAppTenantId")
    """The municipality's Entra tenant id; required for SingleTenant and UserAssignedMSI."""

    data_dir: Path = Field(default=Path("data"), validation_alias="KIVETT_DATA_DIR")
    """Where the embedded store (SQLite) keeps its files."""

    default_language: Malform = Field(default="nb", validation_alias="KIVETT_DEFAULT_LANGUAGE")
    """The municipality's målform, nb or nn: the answer to everyone with Teams in Norwegian or who
    writes Norwegian, unless they chose otherwise with `språk` (bot.core.language)."""

    log_level: LogLevel = Field(default="INFO", validation_alias="KIVETT_LOG_LEVEL")
    """DEBUG, INFO, WARNING or ERROR."""

    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=4 * 1024,
        le=4 * 1024 * 1024,
        validation_alias=AliasChoices("KIVETT_MAX_BODY_BYTES"),
    )
    """Largest request body /api/messages accepts; bigger bodies get 413."""

    body_timeout_seconds: float = Field(
        default=10.0, ge=0.1, le=300.0, validation_alias="KIVETT_BODY_TIMEOUT_SECONDS"
    )
    """Longest a request body on /api/messages may take to arrive; a slower one gets 408 and the
    connection is closed."""

    max_unauthenticated_reads: int = Field(
        default=16, ge=1, le=10_000, validation_alias="KIVETT_MAX_UNAUTHENTICATED_READS"
    )
    """How many request bodies may be read at once before their sender is authenticated (only
    when authentication is off, in dev mode; otherwise the token is checked before the body is
    read). Beyond it: 503 and the connection closed."""

    key_fetch_timeout_seconds: float = Field(
        default=5.0, ge=0.1, le=60.0, validation_alias="KIVETT_KEY_FETCH_TIMEOUT_SECONDS"
    )
    """Longest a fetch of Microsoft's token signing keys may take (bot.teams.signing_keys)."""

    dangerous_allow_other_channels: bool = Field(
        default=False, validation_alias="KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS"
    )
    """Dangerous, dev mode only: accept activities from channels other than Teams (msteams).
    Outside dev mode it is ignored (with a warning at start-up)."""

    storage: StorageKind = Field(default="sqlite", validation_alias="KIVETT_STORAGE")
    """Where state lives: sqlite (embedded default)."""

    champions_raw: str = Field(default="", validation_alias="KIVETT_CHAMPIONS")
    """Entra object ids of the champions (pådrivere), separated by commas."""

    scheduler_interval_seconds: float = Field(
        default=30.0, ge=0.2, le=3600.0, validation_alias="KIVETT_SCHEDULER_INTERVAL_SECONDS"
    )
    """How often due weekly lessons are looked for."""

    leads_raw: str = Field(default="", validation_alias="KIVETT_LEADS")
    """Entra object ids of the project leads who may see the learning-card summary, by commas."""

    sharepoint_site: str = Field(default="", validation_alias="KIVETT_SHAREPOINT_SITE")
    """The SharePoint site for learning cards: https://<tenant>.sharepoint.com/sites/<site>, or a
    Graph site id. Empty: learning cards stay in the embedded store (export them with
    `kivett export --csv`)."""

    sharepoint_list: str = Field(
        default="Læringskort",
        min_length=1,
        max_length=255,
        validation_alias="KIVETT_SHAREPOINT_LIST",
    )
    """The list's display name on that site."""

    sharepoint_trials_list: str = Field(
        default="Utprøvinger",
        min_length=1,
        max_length=255,
        validation_alias="KIVETT_SHAREPOINT_TRIALS_LIST",
    )
    """The trials (utprøvinger) list's display name on that site; learning cards link to its
    items."""

    graph_credential: GraphCredentialKind = Field(
        default="secret", validation_alias="KIVETT_GRAPH_CREDENTIAL"
    )
    """How the bot signs in to Microsoft Graph: secret (MicrosoftAppPassword), certificate
    (KIVETT_GRAPH_CERTIFICATE_PATH) or managed_identity (MicrosoftAppId as the identity's client
    id)."""

    graph_certificate_path: Path | None = Field(
        default=None, validation_alias="KIVETT_GRAPH_CERTIFICATE_PATH"
    )
    """PEM file with the app registration's certificate and private key (certificate only)."""

    graph_base_url: str = Field(
        default="https://graph.microsoft.com/v1.0", validation_alias="KIVETT_GRAPH_BASE_URL"
    )
    """Microsoft Graph's address. Only tests and local trials change it (http only on loopback)."""

    azure_connection_string: SecretStr = Field(
        default=SecretStr(""), validation_alias="KIVETT_AZURE_STORAGE_CONNECTION_STRING"
    )
    """With KIVETT_STORAGE=azure: the storage account's connection string (or use the account
    URL below with the bot's managed identity)."""

    azure_account_url: str = Field(default="", validation_alias="KIVETT_AZURE_STORAGE_ACCOUNT_URL")
    """With KIVETT_STORAGE=azure and no connection string: https://<account>.blob.core.windows.net,
    signed in with DefaultAzureCredential (the queue address is the same with .queue.)."""

    azure_container: str = Field(
        default="kivett",
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        validation_alias="KIVETT_AZURE_CONTAINER",
    )
    """Blob container for state, cards and broadcasts; queue names start with it too."""

    azure_lease_seconds: int = Field(
        default=60, ge=5, le=3600, validation_alias="KIVETT_AZURE_LEASE_SECONDS"
    )
    """How long a piece of shared work (a broadcast, a learning card) stays with one instance
    without word from it before another instance takes it over."""

    outbox_interval_seconds: float = Field(
        default=5.0, ge=0.05, le=3600.0, validation_alias="KIVETT_OUTBOX_INTERVAL_SECONDS"
    )
    """How often the learning-card outbox looks for cards to write to SharePoint."""

    workers: bool = Field(default=True, validation_alias="KIVETT_WORKERS")
    """on (default): `kivett serve` also runs the workers (weekly lessons, tips, the learning-card
    outbox, retention); off: it only answers turns, and `kivett worker` runs them in a process of
    its own (same data directory or Azure Storage account)."""

    retention_days: int = Field(
        default=365, ge=30, le=3650, validation_alias="KIVETT_RETENTION_DAYS"
    )
    """How long the bot keeps a conversation nobody has written in and no one subscribes to
    lessons in (its reference and state), and the monthly usage counts. Checked once a day."""

    @model_validator(mode="after")
    def _credentials_hang_together(self) -> Settings:
        if not self.app_id:
            return self
        if (
            self.app_type is not AppType.USER_ASSIGNED_MSI
            and not self.app_password.get_secret_value()
        ):
            raise ValueError(
                "MicrosoftAppPassword: required when MicrosoftAppId is set and "
                f"MicrosoftAppType is {self.app_type.value}"
            )
        if self.app_type is not AppType.MULTI_TENANT and not self.app_tenant_id:
            raise ValueError(
                "MicrosoftAppTenantId: required when MicrosoftAppType is "
                f"{self.app_type.value} (the municipality's Entra tenant id)"
            )
        return self

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id)

    @property
    def champions(self) -> frozenset[str]:
        return _ids(self.champions_raw)

    @property
    def graph_is_local(self) -> bool:
        """Graph is a stand-in on this machine (tests, local trials), not Microsoft's."""
        return urlsplit(self.graph_base_url).hostname in ("127.0.0.1", "localhost", "::1")

    @property
    def leads(self) -> frozenset[str]:
        return _ids(self.leads_raw)

    @field_validator("graph_base_url")
    @classmethod
    def _graph_base_url_is_safe(cls, value: str) -> str:
        url = urlsplit(value)
        loopback = url.hostname in ("127.0.0.1", "localhost", "::1")
        if (url.scheme == "https" and url.hostname) or (url.scheme == "http" and loopback):
            return value.rstrip("/")
        raise ValueError("not an https address (http only for 127.0.0.1 or localhost)")

    @model_validator(mode="after")
    def _azure_hangs_together(self) -> Settings:
        if self.storage != "azure":
            return self
        if not self.azure_connection_string.get_secret_value() and not self.azure_account_url:
            raise ValueError(
                "KIVETT_STORAGE: azure needs KIVETT_AZURE_STORAGE_CONNECTION_STRING "
                "or KIVETT_AZURE_STORAGE_ACCOUNT_URL"
            )
        if self.azure_account_url and not self.azure_account_url.startswith("https://"):
            raise ValueError("KIVETT_AZURE_STORAGE_ACCOUNT_URL: must be an https:// address")
        return self

    @model_validator(mode="after")
    def _graph_hangs_together(self) -> Settings:
        if not self.sharepoint_site:
            return self
        if not self.app_id and not self.graph_is_local:
            raise ValueError(
                "KIVETT_SHAREPOINT_SITE: needs MicrosoftAppId (and its credential) "
                "to sign in to Graph"
            )
        if self.graph_credential == "certificate" and self.graph_certificate_path is None:
            raise ValueError(
                "KIVETT_GRAPH_CERTIFICATE_PATH: required when "
                "KIVETT_GRAPH_CREDENTIAL is certificate"
            )
        return self


def _ids(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


class SettingsError(Exception):
    """Start-up configuration is invalid; the message is one line for the operator."""


_ALLOWED: dict[str, str] = {
    "MicrosoftAppType": ", ".join(t.value for t in AppType),
    "KIVETT_DEFAULT_LANGUAGE": ", ".join(get_args(Malform))
    + " (the municipality's målform; English is chosen per person)",
    "KIVETT_LOG_LEVEL": ", ".join(get_args(LogLevel)),
    "KIVETT_STORAGE": ", ".join(get_args(StorageKind)),
    "KIVETT_MAX_BODY_BYTES": "a whole number of bytes from 4096 to 4194304",
    "KIVETT_BODY_TIMEOUT_SECONDS": "a number of seconds from 0.1 to 300",
    "KIVETT_MAX_UNAUTHENTICATED_READS": "a whole number from 1 to 10000",
    "KIVETT_KEY_FETCH_TIMEOUT_SECONDS": "a number of seconds from 0.1 to 60",
    "KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS": "true or false (dev mode only)",
    "KIVETT_RETENTION_DAYS": "a whole number of days from 30 to 3650",
    "KIVETT_WORKERS": "on or off (off: run the workers with 'kivett worker')",
    "KIVETT_DATA_DIR": "a directory path",
    "KIVETT_SCHEDULER_INTERVAL_SECONDS": "a number of seconds from 0.2 to 3600",
    "KIVETT_OUTBOX_INTERVAL_SECONDS": "a number of seconds from 0.05 to 3600",
    "KIVETT_GRAPH_CREDENTIAL": ", ".join(get_args(GraphCredentialKind)),
    "KIVETT_GRAPH_CERTIFICATE_PATH": "a path to a PEM file",
    "KIVETT_SHAREPOINT_LIST": "a list name of 1 to 255 characters",
    "KIVETT_GRAPH_BASE_URL": "an https address (http only for 127.0.0.1 or localhost)",
    "KIVETT_AZURE_CONTAINER": "3 to 63 lower-case letters, digits and single hyphens",
    "KIVETT_AZURE_LEASE_SECONDS": "a whole number of seconds from 5 to 3600",
}


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read and validate settings; raise SettingsError with one line naming the variable."""
    try:
        return Settings(_env_file=env_file)  # type: ignore[call-arg]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    loc = [str(part) for part in first.get("loc", ())]
    if loc:
        variable = loc[0]
        allowed = _ALLOWED.get(variable, "see the configuration table in the README")
        return f"{variable}: invalid value; allowed: {allowed}"
    # model-level rule: our own message already names the variable
    message = str(first.get("msg", "invalid settings"))
    return message.removeprefix("Value error, ")
