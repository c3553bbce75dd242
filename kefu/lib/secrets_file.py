"""Keys generated once into the data directory when the operator did not set them."""

from __future__ import annotations

import os
import secrets
from base64 import urlsafe_b64encode
from pathlib import Path


def read_or_create_key(path: Path, *, fernet: bool = False) -> str:
    """Return the key stored at ``path``, creating it (mode 0600) on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = (
        urlsafe_b64encode(secrets.token_bytes(32)).decode() if fernet else secrets.token_urlsafe(50)
    )
    # O_EXCL: when web, worker and tick start together only one of them writes the key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
