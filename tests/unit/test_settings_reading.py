"""How each kind of setting is read (bot/settings.py reads them without a validation library):
numbers in range, on/off, secrets, addresses and the .env file's quoting."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        ("KIVETT_MAX_BODY_BYTES", "8192", "max_body_bytes", 8192),
        ("KIVETT_MAX_BODY_BYTES", "8192.0", "max_body_bytes", 8192),
        ("KIVETT_BODY_TIMEOUT_SECONDS", "0.5", "body_timeout_seconds", 0.5),
        ("KIVETT_WORKERS", "off", "workers", False),
        ("KIVETT_WORKERS", "TRUE", "workers", True),
        ("KIVETT_DANGEROUS_ALLOW_OTHER_CHANNELS", "yes", "dangerous_allow_other_channels", True),
        ("KIVETT_DATA_DIR", "/srv/kivett", "data_dir", Path("/srv/kivett")),
        (
            "KIVETT_GRAPH_BASE_URL",
            "http://127.0.0.1:4010/v1.0/",
            "graph_base_url",
            "http://127.0.0.1:4010/v1.0",
        ),
        ("KIVETT_AZURE_CONTAINER", "kivett-test-1", "azure_container", "kivett-test-1"),
        ("KIVETT_GRAPH_CERTIFICATE_PATH", "", "graph_certificate_path", None),
    ],
)
def test_a_valid_value_is_read_as_its_type(
    variable: str, value: str, attribute: str, expected: object
) -> None:
    assert getattr(Settings.model_validate({variable: value}), attribute) == expected


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("KIVETT_MAX_BODY_BYTES", "1024"),
        ("KIVETT_MAX_BODY_BYTES", "8192.5"),
        ("KIVETT_RETENTION_DAYS", "29"),
        ("KIVETT_BODY_TIMEOUT_SECONDS", "nan"),
        ("KIVETT_BODY_TIMEOUT_SECONDS", "301"),
        ("KIVETT_WORKERS", "maybe"),
        ("KIVETT_STORAGE", "postgres"),
        ("KIVETT_GRAPH_BASE_URL", "http://graph.example.no/v1.0"),
        ("KIVETT_AZURE_CONTAINER", "Kivett_Test"),
        ("KIVETT_SHAREPOINT_LIST", ""),
        ("KIVETT_SHAREPOINT_TRIALS_LIST", "x" * 256),
    ],
)
def test_a_value_out_of_bounds_stops_start_up_naming_the_variable(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.model_validate({variable: value})
    assert str(raised.value).startswith(f"{variable}: invalid value; allowed: ")


def test_typed_values_from_tools_are_taken_as_they_are() -> None:
    settings = Settings.model_validate(
        {"KIVETT_KEY_FETCH_TIMEOUT_SECONDS": 60, "KIVETT_MAX_UNAUTHENTICATED_READS": 3}
    )
    assert settings.key_fetch_timeout_seconds == 60.0
    assert settings.max_unauthenticated_reads == 3


def test_secrets_never_show_in_repr_and_unknown_variables_are_ignored() -> None:
    settings = Settings.model_validate(
        {
            "MicrosoftAppId": "11111111-2222-3333-4444-555555555555",
            "MicrosoftAppPassword": "pa55word",
            "MicrosoftAppType": "MultiTenant",
            "KIVETT_STORAGE": "azure",
            "KIVETT_AZURE_STORAGE_CONNECTION_STRING": "AccountKey=s3cretkey",
            "KIVETT_NOT_A_SETTING": "whatever",
        }
    )
    assert settings.app_password.get_secret_value() == "pa55word"
    assert settings.azure_connection_string.get_secret_value() == "AccountKey=s3cretkey"
    assert "pa55word" not in repr(settings)
    assert "s3cretkey" not in repr(settings)


def test_rules_between_settings_name_what_to_fix() -> None:
    with pytest.raises(SettingsError, match=r"^KIVETT_STORAGE: azure needs"):
        Settings.model_validate({"KIVETT_STORAGE": "azure"})
    with pytest.raises(SettingsError, match=r"^KIVETT_SHAREPOINT_SITE: needs MicrosoftAppId"):
        Settings.model_validate({"KIVETT_SHAREPOINT_SITE": "https://k.sharepoint.com/sites/ki"})
    with pytest.raises(SettingsError, match=r"^KIVETT_GRAPH_CERTIFICATE_PATH: required"):
        Settings.model_validate(
            {
                "KIVETT_SHAREPOINT_SITE": "https://k.sharepoint.com/sites/ki",
                "KIVETT_GRAPH_BASE_URL": "http://127.0.0.1:4010",
                "KIVETT_GRAPH_CREDENTIAL": "certificate",
            }
        )


def test_dotenv_quotes_and_comments_are_read_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# KI-vett\n"
        'KIVETT_SHAREPOINT_LIST="Læringskort 2026"\n'
        "export KIVETT_LEADS='a, b'\n"
        "KIVETT_RETENTION_DAYS=400 # a year and a bit\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("KIVETT_LEADS", raising=False)
    settings = load_settings(env_file=env_file)
    assert settings.sharepoint_list == "Læringskort 2026"
    assert settings.leads == frozenset({"a", "b"})
    assert settings.retention_days == 400


def test_a_missing_env_file_is_no_error(tmp_path: Path) -> None:
    assert load_settings(env_file=tmp_path / "absent.env").storage == "sqlite"
