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


@pytest.mark.parametrize("name", ["operator", "Operator", "policykg"])
def test_a_contributor_cannot_take_the_name_the_service_writes_as(name):
    # <base>id/agent/operator may change every entry: a contributor of that name would share its rights.
    with pytest.raises(ConfigError, match="reserved"):
        load_settings(contributor_tokens={"a-long-enough-token": name})
    assert load_settings(contributor_tokens={"a-long-enough-token": "alice"}).contributor_tokens


def test_the_manual_documents_every_setting_and_no_other(settings):
    import re

    from policykg.config import Settings

    manual = (settings.root / "docs" / "operating.md").read_text(encoding="utf-8")
    table = manual.split("\n## Configuration", 1)[1].split("\n\n", 2)[2].split("\n\n", 1)[0]
    documented = {
        name.lower()
        for row in table.splitlines()
        if row.startswith("| `POLICYKG_")
        for name in re.findall(r"`POLICYKG_([A-Z_]+)`", row.split("|")[1])
    }
    assert documented == set(Settings.model_fields)
