"""Settings: from the environment and flags, checked once."""

import pytest

from policykg.config import load_settings
from policykg.errors import ConfigError


def test_environment_variables_set_the_settings(monkeypatch):
    monkeypatch.setenv("POLICYKG_STORE", "memory")
    monkeypatch.setenv("POLICYKG_QUERY_TIMEOUT", "2.5")
    settings = load_settings()
    assert (settings.store, settings.query_timeout) == ("memory", 2.5)


def test_a_flag_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("POLICYKG_PORT", "9000")
    assert load_settings(port=9100).port == 9100


def test_an_empty_update_token_means_no_writes():
    assert load_settings(update_token="").update_token is None


def test_a_short_update_token_is_refused():
    with pytest.raises(ConfigError, match="at least 8 characters"):
        load_settings(update_token="abc")


def test_a_negative_timeout_is_refused():
    with pytest.raises(ConfigError, match="query_timeout"):
        load_settings(query_timeout=-1)
