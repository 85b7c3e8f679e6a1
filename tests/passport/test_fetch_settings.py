"""The fetch settings read from the environment, with their errors."""

import pytest

from passport.settings import (
    DEFAULT_FETCH_MAX_BYTES,
    DEFAULT_FETCH_TIMEOUT_SECONDS,
    FetchSettings,
    Settings,
)


def test_defaults_fetch_https_only():
    settings = FetchSettings.from_env({})

    assert settings.allow_http is False
    assert settings.offline is False
    assert settings.timeout == DEFAULT_FETCH_TIMEOUT_SECONDS
    assert settings.max_bytes == DEFAULT_FETCH_MAX_BYTES


def test_values_read():
    settings = FetchSettings.from_env(
        {
            "PASSPORT_ALLOW_HTTP_FETCH": "1",
            "PASSPORT_OFFLINE": "yes",
            "PASSPORT_FETCH_TIMEOUT": "2.5",
            "PASSPORT_FETCH_MAX_BYTES": "65536",
        }
    )

    assert settings.allow_http is True
    assert settings.offline is True
    assert settings.timeout == 2.5
    assert settings.max_bytes == 65536


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PASSPORT_ALLOW_HTTP_FETCH", "maybe", "is not a boolean"),
        ("PASSPORT_OFFLINE", "2", "is not a boolean"),
        ("PASSPORT_FETCH_TIMEOUT", "0", "is not a positive number"),
        ("PASSPORT_FETCH_TIMEOUT", "-1", "is not a positive number"),
        ("PASSPORT_FETCH_TIMEOUT", "inf", "is not a positive number"),
        ("PASSPORT_FETCH_TIMEOUT", "nan", "is not a positive number"),
        ("PASSPORT_FETCH_MAX_BYTES", "1MB", "is not a positive number"),
    ],
)
def test_bad_value_named(name, value, message):
    with pytest.raises(ValueError, match=message) as raised:
        FetchSettings.from_env({name: value})

    assert f"{name}={value!r}" in str(raised.value)


def test_platform_settings_carry_fetch(tmp_path):
    settings = Settings.from_env(
        {
            "PASSPORT_DATA_DIR": str(tmp_path),
            "PASSPORT_KEY_PASSPHRASE": "p",
            "PASSPORT_SECRET_KEY": "s",
            "PASSPORT_OFFLINE": "1",
        }
    )

    assert settings.fetch.offline is True


def test_data_folder_private(tmp_path):
    data_dir = tmp_path / "new" / "var"

    Settings.from_env({"PASSPORT_DATA_DIR": str(data_dir)})

    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "key-passphrase").stat().st_mode & 0o777 == 0o600
