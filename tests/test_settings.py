"""Settings: flat JOBIMPORT_* names, defaults from the issue, bad values named."""

from __future__ import annotations

import pytest

from jobimport.errors import SettingsError
from jobimport.settings import DEFAULT_FEEDS, load_settings, mask_url_password


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("JOBIMPORT_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = load_settings()
    assert s.database_url == "sqlite:///var/jobimport.db"
    assert s.feeds == DEFAULT_FEEDS
    assert len(DEFAULT_FEEDS) == 9
    assert s.max_feed_bytes == 256 * 1024 * 1024
    assert (s.fetch_connect_timeout_s, s.fetch_read_timeout_s, s.fetch_timeout_s) == (10, 30, 240)
    assert s.allow_private_addresses is False


def test_environment_names_are_flat(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBIMPORT_BATCH_SIZE", "250")
    monkeypatch.setenv("JOBIMPORT_FEEDS", '["https://a.example/f", "https://a.example/f"]')
    monkeypatch.setenv("JOBIMPORT_LOG_LEVEL", "warning")
    s = load_settings()
    assert s.batch_size == 250
    assert s.feeds == ("https://a.example/f",)
    assert s.log_level == "WARNING"


def test_read_timeout_must_fit_in_total_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOBIMPORT_FETCH_READ_TIMEOUT_S", "60")
    monkeypatch.setenv("JOBIMPORT_FETCH_TIMEOUT_S", "30")
    with pytest.raises(SettingsError, match="JOBIMPORT_FETCH_READ_TIMEOUT_S"):
        load_settings()


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("mongodb://u:p@h/db", "mongodb://u:****@h/db"),
        ("mongodb+srv://u@h/db", "mongodb+srv://u@h/db"),
        ("sqlite:///var/x.db", "sqlite:///var/x.db"),
        ("redis://:secret@h:6379/0", "redis://:****@h:6379/0"),
    ],
)
def test_mask_url_password(url: str, masked: str) -> None:
    assert mask_url_password(url) == masked


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("3000000d", "longer than 366 days"),
        ("99999999999999999999d", "longer than 366 days"),
        ("* * 31 2 *", "never fires"),
        ("0 0 29 2 *", "does not fire within 366 days"),
        ("30s", "one-minute tick"),
    ],
)
def test_schedule_that_cannot_fire_is_a_bad_setting(value: str, why: str) -> None:
    with pytest.raises(SettingsError, match=f"JOBIMPORT_SCHEDULE: .*{why}"):
        load_settings(schedule=value)
