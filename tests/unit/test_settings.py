from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import AppType, SettingsError, load_settings


def test_defaults_give_an_embedded_dev_setup_in_bokmal(tmp_path: Path) -> None:
    settings = load_settings(env_file=None)
    assert settings.app_id == ""
    assert not settings.has_credentials
    assert settings.default_language == "nb"
    assert settings.log_level == "INFO"
    assert settings.app_type is AppType.SINGLE_TENANT
    assert settings.data_dir == Path("data")


def test_bot_framework_names_are_read_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "s3cret")
    monkeypatch.setenv("MicrosoftAppType", "MultiTenant")
    monkeypatch.setenv("KIVETT_DEFAULT_LANGUAGE", "nn")
    settings = load_settings(env_file=None)
    assert settings.app_id == "11111111-2222-3333-4444-555555555555"
    assert settings.app_password.get_secret_value() == "s3cret"
    assert settings.app_type is AppType.MULTI_TENANT
    assert settings.default_language == "nn"
    assert "s3cret" not in repr(settings)


def test_dotenv_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KIVETT_LOG_LEVEL=DEBUG\nKIVETT_DEFAULT_LANGUAGE=nb\n", encoding="utf-8")
    monkeypatch.setenv("KIVETT_DEFAULT_LANGUAGE", "nn")
    settings = load_settings(env_file=env_file)
    assert settings.log_level == "DEBUG"
    assert settings.default_language == "nn"


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("KIVETT_LOG_LEVEL", "LOUD", "DEBUG, INFO, WARNING, ERROR"),
        ("KIVETT_DEFAULT_LANGUAGE", "sv", "nb, nn (the municipality's målform"),
        ("KIVETT_DEFAULT_LANGUAGE", "english", "nb, nn"),
        ("MicrosoftAppType", "Anything", "SingleTenant, MultiTenant, UserAssignedMSI"),
        ("KIVETT_MAX_BODY_BYTES", "lots", "4096 to 4194304"),
    ],
)
def test_invalid_value_is_one_line_naming_variable_and_allowed_values(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{variable}:")
    assert allowed in message
    assert value not in message or variable == "MicrosoftAppType"


def test_single_tenant_needs_a_tenant_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppPassword", "pw")
    with pytest.raises(SettingsError, match=r"^MicrosoftAppTenantId: required"):
        load_settings(env_file=None)


def test_user_assigned_identity_needs_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MicrosoftAppId", "11111111-2222-3333-4444-555555555555")
    monkeypatch.setenv("MicrosoftAppType", "UserAssignedMSI")
    monkeypatch.setenv("MicrosoftAppTenantId", "tenant")
    assert load_settings(env_file=None).has_credentials
