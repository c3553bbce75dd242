"""The typed readers behind settings.py: good values parse, bad ones name their variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from kefu.lib.env import (
    ConfigurationError,
    database_from_url,
    email_from_url,
    env_bool,
    env_int,
    env_list,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("Yes", True),
        (" ON ", True),
        ("0", False),
        ("off", False),
        ("", False),
    ],
)
def test_env_bool_parses_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("KEFU_FLAG", raw)
    assert env_bool("KEFU_FLAG", not expected) is expected


def test_env_helpers_return_the_default_when_unset(monkeypatch):
    monkeypatch.delenv("KEFU_UNSET", raising=False)
    assert env_bool("KEFU_UNSET", True) is True
    assert env_int("KEFU_UNSET", 8000) == 8000
    assert env_list("KEFU_UNSET", ["localhost"]) == ["localhost"]


def test_env_bool_rejects_anything_else_naming_the_variable(monkeypatch):
    monkeypatch.setenv("KEFU_HTTPS", "maybe")
    with pytest.raises(ConfigurationError, match=r"KEFU_HTTPS .*'maybe'"):
        env_bool("KEFU_HTTPS", True)


def test_env_int_parses_and_rejects_naming_the_variable(monkeypatch):
    monkeypatch.setenv("KEFU_PORT", "8123")
    assert env_int("KEFU_PORT", 8000) == 8123
    monkeypatch.setenv("KEFU_PORT", "")
    assert env_int("KEFU_PORT", 8000) == 8000
    monkeypatch.setenv("KEFU_PORT", "80a")
    with pytest.raises(ConfigurationError, match=r"KEFU_PORT must be an integer, got '80a'"):
        env_int("KEFU_PORT", 8000)


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("KEFU_ALLOWED_HOSTS", " kefu.example.com, 192.168.1.20 ,, ")
    assert env_list("KEFU_ALLOWED_HOSTS", []) == ["kefu.example.com", "192.168.1.20"]


def test_database_url_becomes_a_postgresql_entry():
    database = database_from_url("postgres://kefu:p%40ss@db.internal:5433/helpdesk?sslmode=require")
    assert database == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "helpdesk",
        "USER": "kefu",
        "PASSWORD": "p@ss",
        "HOST": "db.internal",
        "PORT": "5433",
        "OPTIONS": {"sslmode": "require"},
    }


def test_database_url_rejects_other_databases_naming_the_variable():
    with pytest.raises(ConfigurationError, match="KEFU_DATABASE_URL must start with postgres://"):
        database_from_url("mysql://root@localhost/kefu")


def test_smtp_url_becomes_email_settings():
    implicit_tls = email_from_url("smtps://robot%40corp.example:secret@smtp.corp.example")
    assert implicit_tls["EMAIL_USE_SSL"] is True
    assert implicit_tls["EMAIL_PORT"] == 465
    assert implicit_tls["EMAIL_HOST_USER"] == "robot@corp.example"
    starttls = email_from_url("smtp://smtp.corp.example:587?tls=1")
    assert (starttls["EMAIL_USE_TLS"], starttls["EMAIL_USE_SSL"], starttls["EMAIL_PORT"]) == (
        True,
        False,
        587,
    )


def test_smtp_url_rejects_other_schemes_naming_the_variable():
    with pytest.raises(ConfigurationError, match="KEFU_SMTP_URL"):
        email_from_url("https://mail.example.com")


def test_every_setting_is_documented_in_env_example_and_settings_md():
    base = Path(settings.BASE_DIR)
    read = set(re.findall(r'"(KEFU_[A-Z_]+)"', (base / "kefu" / "settings.py").read_text()))
    assert "KEFU_DATABASE_URL" in read
    example = (base / ".env.example").read_text()
    documented = (base / "docs" / "settings.md").read_text()
    assert sorted(name for name in read if f"{name}=" not in example) == []
    assert sorted(name for name in read if f"`{name}`" not in documented) == []
