"""Typed readers for ``KEFU_*`` environment variables.

Every setting Kefu reads goes through these helpers so that a malformed value fails at start-up
with a message naming the variable, instead of surfacing later as a confusing error.
"""

from __future__ import annotations

import ipaddress
import os
from urllib.parse import parse_qs, unquote, urlparse


class ConfigurationError(Exception):
    pass


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_networks(
    name: str, default: list[str]
) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """A comma-separated list of IP addresses and CIDR networks (``10.0.0.5, 10.1.0.0/16``)."""
    networks = []
    for item in env_list(name, default):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name} must list IP addresses or networks like 10.0.0.0/8, got {item!r}"
            ) from None
    return networks


def database_from_url(url: str) -> dict:
    """Translate ``postgres://user:pass@host:port/name?opt=v`` into a Django DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme not in ("postgres", "postgresql", "pgsql"):
        raise ConfigurationError(
            f"KEFU_DATABASE_URL must start with postgres:// (got scheme {parsed.scheme!r}); "
            "leave it unset to use the embedded SQLite database"
        )
    options = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parsed.path.lstrip("/")) or "kefu",
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        "OPTIONS": options,
    }


def email_from_url(url: str) -> dict:
    """Translate ``smtp://user:pass@host:port?tls=1`` (or ``smtps://``) into Django e-mail settings."""
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps"):
        raise ConfigurationError(f"KEFU_SMTP_URL must start with smtp:// or smtps://, got {url!r}")
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    use_ssl = parsed.scheme == "smtps"
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "localhost",
        "EMAIL_PORT": parsed.port or (465 if use_ssl else 25),
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_USE_TLS": query.get("tls", "0").lower() in _TRUE,
        "EMAIL_TIMEOUT": 30,
    }
