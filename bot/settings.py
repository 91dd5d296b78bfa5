"""Typed settings, read once from the environment (and an optional `.env` file).

Bot Framework names (`MicrosoftAppId`, …) are kept exactly as Azure and the Bot Framework docs
spell them, so an App Service configured for any Bot Framework bot works unchanged. Our own
settings are prefixed `KIVETT_`.

Each setting is a field of the frozen `Settings` dataclass whose metadata names its variable and how
its text is read (`reads(...)` below); `load_settings` reads the environment over the `.env` file,
checks every value and the rules between them, and stops at the first problem with one line that
names the variable and what it allows. This is plain Python on purpose: a validation library
would cost every start 0.2–0.3 s of imports (docs/performance.md, cold start) for some thirty
values.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import urlsplit

Malform = Literal["nb", "nn"]
"""The municipality's official written standard (målform): bokmål or nynorsk."""
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
StorageKind = Literal["sqlite", "azure"]
GraphCredentialKind = Literal["secret", "certificate", "managed_identity"]

Reader = Callable[[object], Any]
"""Turns a variable's value (text from the environment, or a typed value from a test) into the
field's value; raises ValueError when it is not allowed."""


class AppType(StrEnum):
    """How the bot proves who it is to Teams (the Azure Bot resource's app type)."""

    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


@dataclass(frozen=True)
class Secret:
    """A password or connection string: `repr` (and so every log line) shows only stars."""

    value: str = field(default="", repr=False)

    def get_secret_value(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return "Secret('**********')" if self.value else "Secret('')"


class SettingsError(Exception):
    """Start-up configuration is invalid; the message is one line for the operator."""


@dataclass(frozen=True)
class Variable:
    """Where a field comes from: its variable's name and how its value is read."""

    name: str
    read: Reader


_VARIABLE = "kivett.variable"


def reads(name: str, read: Reader) -> Mapping[str, Variable]:
    """A settings field's metadata: it is read from the variable `name` with `read`."""
    return {_VARIABLE: Variable(name, read)}


# -- readers: how a value is read and what it allows ------------------------------------------


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _bounded_text(low: int, high: int, pattern: str | None = None) -> Reader:
    def read(value: object) -> str:
        text = _text(value)
        if not low <= len(text) <= high or (pattern and not re.fullmatch(pattern, text)):
            raise ValueError("not allowed")
        return text

    return read


def _one_of(options: tuple[str, ...]) -> Reader:
    def read(value: object) -> str:
        if value not in options:
            raise ValueError("not allowed")
        return str(value)

    return read


def _app_type(value: object) -> AppType:
    return AppType(_text(value))


def _whole(low: int, high: int) -> Reader:
    def read(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("not a whole number")
        exact = float(value)  # "8192" and "8192.0" are the same whole number; "8192.5" is not
        if not exact.is_integer():
            raise ValueError("not a whole number")
        number = int(exact)
        if not low <= number <= high:
            raise ValueError("out of range")
        return number

    return read


def _number(low: float, high: float) -> Reader:
    def read(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError("not a number")
        number = float(value)
        if math.isnan(number) or not low <= number <= high:
            raise ValueError("out of range")
        return number

    return read


_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValueError("not on or off")


def _path(value: object) -> Path:
    if not isinstance(value, str | Path):
        raise ValueError("not a path")
    return Path(value)


def _optional_path(value: object) -> Path | None:
    return None if value is None or value == "" else _path(value)


def _secret(value: object) -> Secret:
    return value if isinstance(value, Secret) else Secret(_text(value))


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


def _graph_url(value: object) -> str:
    text = _text(value)
    url = urlsplit(text)
    if (url.scheme == "https" and url.hostname) or (url.scheme == "http" and _is_loopback(text)):
        return text.rstrip("/")
    raise ValueError("not an https address (http only for 127.0.0.1 or localhost)")


# -- the settings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Everything KI-vett reads from its environment. Validated once, at start-up."""

    app_id: str = field(default="", metadata=reads("MicrosoftAppId", _text))
    """The bot's Entra app (client) id. Empty means: no authentication (dev mode only)."""

    app_password: Secret = field(default=Secret(), metadata=reads("MicrosoftAppPassword", _secret))
    """Client secret of the app registration (not used with UserAssignedMSI)."""

    app_type: AppType = field(
        default=AppType.SINGLE_TENANT, metadata=reads("MicrosoftAppType", _app_type)
    )
    """SingleTenant (recommended), MultiTenant or UserAssignedMSI."""

    app_tenant_id: str = field(default="", metadata=reads("MicrosoftAppTenantId", _text))
    """The municipality's Entra tenant id; required for SingleTenant and UserAssignedMSI."""

    data_dir: Path = field(default=Path("data"), metadata=reads("KIVETT_DATA_DIR", _path))
    """Where the embedded store (SQLite) keeps its files."""

    default_language: Malform = field(
        default="nb", metadata=reads("KIVETT_DEFAULT_LANGUAGE", _one_of(get_args(Malform)))
    )
    """The municipality's målform, nb or nn: the answer to everyone with Teams in Norwegian or who
    writes Norwegian, unless they chose otherwise with `språk` (bot.core.language)."""

    log_level: LogLevel = field(
        default="INFO", metadata=reads("KIVETT_LOG_LEVEL", _one_of(get_args(LogLevel)))
    )
    """DEBUG, INFO, WARNING or ERROR."""

    max_body_bytes: int = field(
        default=256 * 1024,
        metadata=reads("KIVETT_MAX_BODY_BYTES", _whole(4 * 1024, 4 * 1024 * 1024)),
    )
    """Largest request body /api/messages accepts; bigger bodies get 413."""

    body_timeout_seconds: float = field(
        default=10.0, metadata=reads("KIVETT_BODY_TIMEOUT_SECONDS", _number(0.1, 300.0))
    )
    """Longest a request body on /api/messages may take to arrive; a slower one gets 408 and the
    connection is closed."""

    max_unauthenticated_reads: int = field(
        default=16, metadata=reads("KIVETT_MAX_UNAUTHENTICATED_READS", _whole(1, 10_000))
    )
    """How many request bodies may be read at once before their sender is authenticated (only
    when authentication is off, in dev mode; otherwise the token is checked before the body is
    read). Beyond it: 503 and the connection closed."""

    key_fetch_timeout_seconds: float = field(
        default=5.0, metadata=reads("KIVETT_KEY_FETCH_TIMEOUT_SECONDS", _number(0.1, 60.0))
    )
    """Longest a fetch of Microsoft's token signing keys may take (bot.teams.signing_keys)."""

    dangerous_allow_other_channels: bool = field(
        default=False, metadata=reads("KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS", _flag)
    )
    """Dangerous, dev mode only: accept activities from channels other than Teams (msteams).
    Outside dev mode it is ignored (with a warning at start-up)."""

    storage: StorageKind = field(
        default="sqlite", metadata=reads("KIVETT_STORAGE", _one_of(get_args(StorageKind)))
    )
    """Where state lives: sqlite (embedded default)."""

    champions_raw: str = field(default="", metadata=reads("KIVETT_CHAMPIONS", _text))
    """Entra object ids of the champions (pådrivere), separated by commas."""

    scheduler_interval_seconds: float = field(
        default=30.0, metadata=reads("KIVETT_SCHEDULER_INTERVAL_SECONDS", _number(0.2, 3600.0))
    )
    """How often due weekly lessons are looked for."""

    leads_raw: str = field(default="", metadata=reads("KIVETT_LEADS", _text))
    """Entra object ids of the project leads who may see the learning-card summary, by commas."""

    sharepoint_site: str = field(default="", metadata=reads("KIVETT_SHAREPOINT_SITE", _text))
    """The SharePoint site for learning cards: https://<tenant>.sharepoint.com/sites/<site>, or a
    Graph site id. Empty: learning cards stay in the embedded store (export them with
    `kivett export --csv`)."""

    sharepoint_list: str = field(
        default="Læringskort", metadata=reads("KIVETT_SHAREPOINT_LIST", _bounded_text(1, 255))
    )
    """The list's display name on that site."""

    sharepoint_trials_list: str = field(
        default="Utprøvinger",
        metadata=reads("KIVETT_SHAREPOINT_TRIALS_LIST", _bounded_text(1, 255)),
    )
    """The trials (utprøvinger) list's display name on that site; learning cards link to its
    items."""

    graph_credential: GraphCredentialKind = field(
        default="secret",
        metadata=reads("KIVETT_GRAPH_CREDENTIAL", _one_of(get_args(GraphCredentialKind))),
    )
    """How the bot signs in to Microsoft Graph: secret (MicrosoftAppPassword), certificate
    (KIVETT_GRAPH_CERTIFICATE_PATH) or managed_identity (MicrosoftAppId as the identity's client
    id)."""

    graph_certificate_path: Path | None = field(
        default=None, metadata=reads("KIVETT_GRAPH_CERTIFICATE_PATH", _optional_path)
    )
    """PEM file with the app registration's certificate and private key (certificate only)."""

    graph_base_url: str = field(
        default="https://graph.microsoft.com/v1.0",
        metadata=reads("KIVETT_GRAPH_BASE_URL", _graph_url),
    )
    """Microsoft Graph's address. Only tests and local trials change it (http only on loopback)."""

    azure_connection_string: Secret = field(
        default=Secret(), metadata=reads("KIVETT_AZURE_STORAGE_CONNECTION_STRING", _secret)
    )
    """With KIVETT_STORAGE=azure: the storage account's connection string (or use the account
    URL below with the bot's managed identity)."""

    azure_account_url: str = field(
        default="", metadata=reads("KIVETT_AZURE_STORAGE_ACCOUNT_URL", _text)
    )
    """With KIVETT_STORAGE=azure and no connection string: https://<account>.blob.core.windows.net,
    signed in with DefaultAzureCredential (the queue address is the same with .queue.)."""

    azure_container: str = field(
        default="kivett",
        metadata=reads(
            "KIVETT_AZURE_CONTAINER", _bounded_text(3, 63, r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
        ),
    )
    """Blob container for state, cards and broadcasts; queue names start with it too."""

    azure_lease_seconds: int = field(
        default=60, metadata=reads("KIVETT_AZURE_LEASE_SECONDS", _whole(5, 3600))
    )
    """How long a piece of shared work (a broadcast, a learning card) stays with one instance
    without word from it before another instance takes it over."""

    outbox_interval_seconds: float = field(
        default=5.0, metadata=reads("KIVETT_OUTBOX_INTERVAL_SECONDS", _number(0.05, 3600.0))
    )
    """How often the learning-card outbox looks for cards to write to SharePoint."""

    workers: bool = field(default=True, metadata=reads("KIVETT_WORKERS", _flag))
    """on (default): `kivett serve` also runs the workers (weekly lessons, tips, the learning-card
    outbox, retention); off: it only answers turns, and `kivett worker` runs them in a process of
    its own (same data directory or Azure Storage account)."""

    retention_days: int = field(
        default=365, metadata=reads("KIVETT_RETENTION_DAYS", _whole(30, 3650))
    )
    """How long the bot keeps a conversation nobody has written in and no one subscribes to
    lessons in (its reference and state), and the monthly usage counts. Checked once a day."""

    @classmethod
    def model_validate(cls, values: Mapping[str, object]) -> Settings:
        """Settings from variables by name (what the environment holds; tests and tools pass a
        dict). Unknown names are ignored, a missing one takes its default. Named as pydantic's
        constructor, which this module used to build on. Raises SettingsError."""
        chosen: dict[str, Any] = {}
        for item in fields(cls):
            source = _variable_of(item)
            if source.name not in values:
                continue
            try:
                chosen[item.name] = source.read(values[source.name])
            except ValueError:
                raise SettingsError(_invalid(source.name)) from None
        settings = cls(**chosen)
        settings._check_rules()
        return settings

    def _check_rules(self) -> None:
        """The rules between settings; each message names the variable to fix."""
        for problem in (self._credentials_problem(), self._azure_problem(), self._graph_problem()):
            if problem:
                raise SettingsError(problem)

    def _credentials_problem(self) -> str:
        if not self.app_id:
            return ""
        if (
            self.app_type is not AppType.USER_ASSIGNED_MSI
            and not self.app_password.get_secret_value()
        ):
            return (
                "MicrosoftAppPassword: required when MicrosoftAppId is set and "
                f"MicrosoftAppType is {self.app_type.value}"
            )
        if self.app_type is not AppType.MULTI_TENANT and not self.app_tenant_id:
            return (
                "MicrosoftAppTenantId: required when MicrosoftAppType is "
                f"{self.app_type.value} (the municipality's Entra tenant id)"
            )
        return ""

    def _azure_problem(self) -> str:
        if self.storage != "azure":
            return ""
        if not self.azure_connection_string.get_secret_value() and not self.azure_account_url:
            return (
                "KIVETT_STORAGE: azure needs KIVETT_AZURE_STORAGE_CONNECTION_STRING "
                "or KIVETT_AZURE_STORAGE_ACCOUNT_URL"
            )
        if self.azure_account_url and not self.azure_account_url.startswith("https://"):
            return "KIVETT_AZURE_STORAGE_ACCOUNT_URL: must be an https:// address"
        return ""

    def _graph_problem(self) -> str:
        if not self.sharepoint_site:
            return ""
        if not self.app_id and not self.graph_is_local:
            return (
                "KIVETT_SHAREPOINT_SITE: needs MicrosoftAppId (and its credential) "
                "to sign in to Graph"
            )
        if self.graph_credential == "certificate" and self.graph_certificate_path is None:
            return (
                "KIVETT_GRAPH_CERTIFICATE_PATH: required when "
                "KIVETT_GRAPH_CREDENTIAL is certificate"
            )
        return ""

    @property
    def has_credentials(self) -> bool:
        return bool(self.app_id)

    @property
    def champions(self) -> frozenset[str]:
        return _ids(self.champions_raw)

    @property
    def graph_is_local(self) -> bool:
        """Graph is a stand-in on this machine (tests, local trials), not Microsoft's."""
        return _is_loopback(self.graph_base_url)

    @property
    def leads(self) -> frozenset[str]:
        return _ids(self.leads_raw)


def _variable_of(item: Field[Any]) -> Variable:
    return cast(Variable, item.metadata[_VARIABLE])


def _ids(raw: str) -> frozenset[str]:
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


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
    "KIVETT_SHAREPOINT_TRIALS_LIST": "a list name of 1 to 255 characters",
    "KIVETT_GRAPH_BASE_URL": "an https address (http only for 127.0.0.1 or localhost)",
    "KIVETT_AZURE_CONTAINER": "3 to 63 lower-case letters, digits and single hyphens",
    "KIVETT_AZURE_LEASE_SECONDS": "a whole number of seconds from 5 to 3600",
}


def _invalid(name: str) -> str:
    """One line naming the variable and what it allows; never the value (it may be a secret)."""
    allowed = _ALLOWED.get(name, "see the configuration table in the README")
    return f"{name}: invalid value; allowed: {allowed}"


def load_settings(env_file: Path | None = Path(".env")) -> Settings:
    """Read and validate settings: the environment, over `env_file` when it exists (read with
    python-dotenv, as before). Raises SettingsError with one line naming the variable."""
    values: dict[str, object] = {}
    if env_file is not None and env_file.is_file():
        from dotenv import dotenv_values  # only a deployment with a .env file pays for it

        values.update(
            (name, value)
            for name, value in dotenv_values(env_file, encoding="utf-8").items()
            if value is not None
        )
    values.update(os.environ)
    return Settings.model_validate(values)
