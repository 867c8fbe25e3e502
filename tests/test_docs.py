"""Docs stay true: every setting is documented, and nothing documented is made up."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from jobimport.settings import DEFAULT_FEEDS, ENV_PREFIX, Settings, load_settings

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_configuration_md_lists_exactly_the_settings() -> None:
    text = (DOCS / "configuration.md").read_text()
    documented = set(re.findall(r"^\| `(JOBIMPORT_[A-Z0-9_]+)` \|", text, flags=re.M))
    actual = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert documented == actual


def test_configuration_md_lists_the_default_feeds() -> None:
    text = (DOCS / "configuration.md").read_text()
    for url in DEFAULT_FEEDS:
        assert f"\n{url}\n" in text


def test_example_env_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS.parent / "config" / "example.env").read_text()
    values = dict(re.findall(r"^(JOBIMPORT_[A-Z0-9_]+)=(.*)$", text, flags=re.M))
    unset = set(re.findall(r"^# (JOBIMPORT_[A-Z0-9_]+)=$", text, flags=re.M))
    actual = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    assert set(values) | unset == actual
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    defaults = load_settings()
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == defaults
    for name in unset:
        assert getattr(defaults, name.removeprefix(ENV_PREFIX).lower()) is None


def test_readme_cli_tour_matches_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(DOCS.parent / "scripts"))
    import readme_cli

    readme = (DOCS.parent / "README.md").read_text()
    assert readme_cli.BEGIN in readme
    assert readme_cli.render(readme) == readme, "run: python scripts/readme_cli.py"
