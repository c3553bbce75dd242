"""A Dovecot IMAP server on a loopback port for the tests (not a test module itself).

Runs from its own configuration in a temporary directory (Maildir, no TLS) with the passdb the
caller gives; CI installs ``dovecot-imapd`` and runs the tests with KEFU_REQUIRE_ALL=1.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from uuid import uuid4

import pytest

from kefu.conftest import skip_or_fail

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    def __init__(self, root: Path, port: int, uid: int, gid: int, mailbox_name: str):
        self.root, self.port, self.uid, self.gid = root, port, uid, gid
        self.maildir = root / "mail" / mailbox_name

    def drop(self, raw: bytes) -> None:
        """Deliver a message the way an MTA does: write to tmp/, rename into new/."""
        name = f"{time.time():.6f}.{uuid4().hex}.kefu-test"
        temporary = self.maildir / "tmp" / name
        temporary.write_bytes(raw)
        os.chown(temporary, self.uid, self.gid)
        temporary.rename(self.maildir / "new" / name)

    def empty(self) -> None:
        for sub in ("cur", "new"):
            for path in (self.maildir / sub).iterdir():
                path.unlink()

    def count(self, sub: str) -> int:
        """Messages in ``new`` (not yet seen by any client) or ``cur``."""
        return len(list((self.maildir / sub).iterdir()))

    def unseen(self) -> int:
        """Messages without the \\Seen flag, read from the Maildir (``:2,<flags>``, S = seen)."""
        current = [path.name for path in (self.maildir / "cur").iterdir()]
        return self.count("new") + sum(1 for name in current if "S" not in name.partition(":2,")[2])

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def running_dovecot(
    auth: str, *, mailbox_name: str, files: dict[str, str] | None = None
) -> Iterator[Dovecot]:
    """Dovecot with ``auth`` (the ``auth_mechanisms`` line and the ``passdb`` block) and one
    Maildir, ``mail/<mailbox_name>`` (``%n``). ``files`` are written into its directory first
    (a passwd-file, an oauth2 configuration); ``{root}`` in ``auth`` and in them is replaced by
    that directory."""
    if not os.path.exists(DOVECOT):
        skip_or_fail("dovecot not installed (apt-get install dovecot-imapd)")
    if os.geteuid() != 0:
        skip_or_fail("the Dovecot test fixture runs Dovecot as root (as CI does)")
    try:
        mail_user = pwd.getpwnam("dovecot")
        login_user = pwd.getpwnam("dovenull")
    except KeyError:
        skip_or_fail("the dovecot / dovenull system users are missing")
    # Not pytest's tmp_path: its 0700 parents would keep Dovecot's unprivileged processes out.
    root = Path(tempfile.mkdtemp(prefix="kefu-dovecot-", dir="/tmp"))
    root.chmod(0o755)
    port = free_port()
    server = Dovecot(root, port, mail_user.pw_uid, mail_user.pw_gid, mailbox_name)
    for sub in ("cur", "new", "tmp"):
        (server.maildir / sub).mkdir(parents=True)
    for path in (root / "mail", server.maildir, *server.maildir.iterdir()):
        os.chown(path, mail_user.pw_uid, mail_user.pw_gid)
    for name, text in (files or {}).items():
        (root / name).write_text(text.replace("{root}", str(root)))
    (root / "dovecot.conf").write_text(
        f"""
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:{root}/mail/%n
default_internal_user = {mail_user.pw_name}
default_internal_group = {mail_user.pw_name}
default_login_user = {login_user.pw_name}
first_valid_uid = 1
mail_uid = {mail_user.pw_uid}
mail_gid = {mail_user.pw_gid}
{auth.replace("{root}", str(root))}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={root}/mail/%n
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    try:
        subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=True, timeout=30)
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"Dovecot did not start:\n{server.log()[-2000:]}")
                time.sleep(0.1)
        yield server
    finally:
        pid_file = root / "run" / "master.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().strip())
            try:
                os.kill(pid, signal.SIGTERM)
                for _ in range(100):
                    os.kill(pid, 0)
                    time.sleep(0.05)
            except ProcessLookupError:
                pass
        shutil.rmtree(root, ignore_errors=True)
