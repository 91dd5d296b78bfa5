"""Typed settings, read once from the environment (and an optional `.env` file).

Bot Framework names (`MicrosoftAppId`, …) are kept exactly as Azure and the Bot Framework docs
spell them, so an App Service configured for any Bot Framework bot works unchanged. Our own
settings are prefixed `KIVETT_`.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Literal, get_args

from pydantic import AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["nb", "nn", "en"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
StorageKind = Literal["sqlite"]


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

    default_language: Language = Field(default="nb", validation_alias="KIVETT_DEFAULT_LANGUAGE")
    """Language used when a message carries no locale we know: nb, nn or en."""

    log_level: LogLevel = Field(default="INFO", validation_alias="KIVETT_LOG_LEVEL")
    """DEBUG, INFO, WARNING or ERROR."""

    max_body_bytes: int = Field(
        default=256 * 1024,
        ge=4 * 1024,
        le=4 * 1024 * 1024,
        validation_alias=AliasChoices("KIVETT_MAX_BODY_BYTES"),
    )
    """Largest request body /api/messages accepts; bigger bodies get 413."""

    storage: StorageKind = Field(default="sqlite", validation_alias="KIVETT_STORAGE")
    """Where state lives: sqlite (embedded default)."""

    champions_raw: str = Field(default="", validation_alias="KIVETT_CHAMPIONS")
    """Entra object ids of the champions (pådrivere), separated by commas."""

    scheduler_interval_seconds: float = Field(
        default=30.0, ge=0.2, le=3600.0, validation_alias="KIVETT_SCHEDULER_INTERVAL_SECONDS"
    )
    """How often due weekly lessons are looked for."""

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
        return frozenset(part.strip() for part in self.champions_raw.split(",") if part.strip())


class SettingsError(Exception):
    """Start-up configuration is invalid; the message is one line for the operator."""


_ALLOWED: dict[str, str] = {
    "MicrosoftAppType": ", ".join(t.value for t in AppType),
    "KIVETT_DEFAULT_LANGUAGE": ", ".join(get_args(Language)),
    "KIVETT_LOG_LEVEL": ", ".join(get_args(LogLevel)),
    "KIVETT_STORAGE": ", ".join(get_args(StorageKind)),
    "KIVETT_MAX_BODY_BYTES": "a whole number of bytes from 4096 to 4194304",
    "KIVETT_DATA_DIR": "a directory path",
    "KIVETT_SCHEDULER_INTERVAL_SECONDS": "a number of seconds from 0.2 to 3600",
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
