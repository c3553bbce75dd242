"""Backup and restore of a Kefu installation: one ``.tar.gz`` with the database, the uploaded
files and the keys, plus a manifest that makes a restore verifiable.

Archive layout::

    manifest.json            format, Kefu version, engine, applied migrations, created_at,
                             and the SHA-256 of every other member
    database/kefu.sqlite3    SQLite: a copy made with the online backup API (consistent while
                             Kefu runs: web, worker and tick may keep writing)
    database/kefu.pgdump     PostgreSQL: ``pg_dump --format=custom`` (restored with pg_restore)
    uploads/...              MEDIA_ROOT (attachments, raw e-mails, product documents)
    keys/secret_key          the key files Kefu generated in the data directory, if any
    keys/encryption_key      (without it, stored mailbox passwords cannot be decrypted)

A restore verifies every checksum and the migrations before it touches anything, refuses an
archive written by a newer Kefu (migrations this code does not have), refuses a non-empty target
unless forced, and then moves whatever was there aside (``pre-restore-<time>/``) rather than
deleting it. Django-light on purpose: the caller passes an ``Install`` (``current_install()``
reads it from the settings), so tests and tools can back up and restore any data directory.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess  # noqa: S404 - pg_dump / pg_restore, with argument lists
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/kefu.sqlite3"
PGDUMP_MEMBER = "database/kefu.pgdump"
KEY_FILES = ("secret_key", "encryption_key")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """Something the operator can fix (wrong path, non-empty target, missing pg_dump, …)."""


@dataclass(frozen=True)
class Install:
    """Where an installation keeps its data."""

    data_dir: Path
    media_root: Path
    database: dict[str, Any] = field(hash=False)

    @property
    def engine(self) -> str:
        return "postgresql" if "postgresql" in self.database["ENGINE"] else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database["NAME"])


def current_install() -> Install:
    from django.conf import settings

    return Install(
        data_dir=Path(settings.DATA_DIR),
        media_root=Path(settings.MEDIA_ROOT),
        database=dict(settings.DATABASES["default"]),
    )


def sqlite_install(data_dir: Path) -> Install:
    """The embedded layout of a data directory (``KEFU_DATA_DIR`` without a database URL)."""
    data_dir = Path(data_dir).resolve()
    return Install(
        data_dir=data_dir,
        media_root=data_dir / "uploads",
        database={"ENGINE": "django.db.backends.sqlite3", "NAME": data_dir / "kefu.sqlite3"},
    )


def kefu_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("kefu")
    except PackageNotFoundError:  # pragma: no cover - running from a plain checkout
        return "unknown"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- create ---------------------------------------------------------------------------------


def create_backup(archive: Path, install: Install | None = None) -> dict[str, Any]:
    """Write the archive (atomically: a partial file never has the final name); return its
    manifest."""
    install = install or current_install()
    archive = Path(archive).resolve()
    if archive.exists() and archive.is_dir():
        raise BackupError(f"{archive} is a directory; give the archive's file name")
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kefu-backup-", dir=archive.parent) as scratch:
        scratch_dir = Path(scratch)
        if install.engine == "sqlite":
            database_file = scratch_dir / "kefu.sqlite3"
            _sqlite_snapshot(install.sqlite_path, database_file)
            migrations = _sqlite_migrations(database_file)
            database_member = SQLITE_MEMBER
        else:
            database_file = scratch_dir / "kefu.pgdump"
            _pg_dump(install.database, database_file)
            migrations = _pg_migrations(install.database)
            database_member = PGDUMP_MEMBER
        members: list[tuple[str, Path]] = [(database_member, database_file)]
        members += [
            ("uploads/" + path.relative_to(install.media_root).as_posix(), path)
            for path in _files_under(install.media_root)
        ]
        members += [
            (f"keys/{name}", install.data_dir / name)
            for name in KEY_FILES
            if (install.data_dir / name).is_file()
        ]
        manifest = {
            "format": FORMAT,
            "kefu_version": kefu_version(),
            "created_at": datetime.now(UTC).isoformat(),
            "engine": install.engine,
            "database": database_member,
            "migrations": migrations,
            "keys_in_environment": [
                name for name in ("KEFU_SECRET_KEY", "KEFU_ENCRYPTION_KEY") if os.environ.get(name)
            ],
            "files": {name: sha256_file(path) for name, path in members},
        }
        partial = scratch_dir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            body = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(datetime.now(UTC).timestamp())
            info.mode = 0o600
            tar.addfile(info, io.BytesIO(body))
            for name, path in members:
                tar.add(path, arcname=name, recursive=False)
        os.chmod(partial, 0o600)  # it holds the keys and every customer's data
        os.replace(partial, archive)
    return manifest


def _files_under(root: Path) -> Iterator[Path]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path


def _sqlite_snapshot(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API, all pages in one step (so the
    copy is one point in time even while other processes write)."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}; is this the right KEFU_DATA_DIR?")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    # The copy is a standalone file: no WAL beside it.
    check = sqlite3.connect(target)
    try:
        check.execute("PRAGMA journal_mode=DELETE")
    finally:
        check.close()


def _sqlite_migrations(database_file: Path) -> dict[str, list[str]]:
    connection = sqlite3.connect(database_file)
    try:
        rows = connection.execute("SELECT app, name FROM django_migrations").fetchall()
    except sqlite3.OperationalError:
        rows = []  # an empty database: nothing migrated yet
    finally:
        connection.close()
    return _group_migrations(rows)


def _group_migrations(rows) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for app, name in rows:
        grouped.setdefault(app, []).append(name)
    return {app: sorted(names) for app, names in sorted(grouped.items())}


def _pg_environment(database: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if database.get(key):
            env[variable] = str(database[key])
    return env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} is not on PATH. Install the PostgreSQL client tools (apt-get install "
            "postgresql-client) or follow the manual steps in docs/administration.md."
        )
    return found


def _run(command: list[str], database: dict[str, Any]) -> None:
    result = subprocess.run(  # noqa: S603 - fixed tool, arguments as a list
        command, env=_pg_environment(database), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed: {result.stderr.strip()[-2000:]}")


def _pg_dump(database: dict[str, Any], target: Path) -> None:
    _run(
        [
            _pg_tool("pg_dump"),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--file",
            str(target),
            "--dbname",
            str(database["NAME"]),
        ],
        database,
    )


def _pg_connect(database: dict[str, Any]):
    import psycopg

    return psycopg.connect(
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        dbname=database["NAME"],
        autocommit=True,
    )


def _pg_migrations(database: dict[str, Any]) -> dict[str, list[str]]:
    with _pg_connect(database) as connection:
        exists = connection.execute("SELECT to_regclass('public.django_migrations')").fetchone()
        if not exists or exists[0] is None:
            return {}
        rows = connection.execute("SELECT app, name FROM django_migrations").fetchall()
    return _group_migrations(rows)


# --- restore --------------------------------------------------------------------------------


def read_manifest(archive: Path) -> dict[str, Any]:
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read())
    except (OSError, tarfile.TarError, KeyError, ValueError) as error:
        raise BackupError(f"{archive} is not a Kefu backup ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {manifest.get('format')!r}")
    return manifest


def unknown_migrations(manifest: dict[str, Any], known: set[tuple[str, str]]) -> list[str]:
    """Migrations the archive's database has but this code does not: it came from a newer
    Kefu, and running this version on it could lose or misread data."""
    return sorted(
        f"{app}.{name}"
        for app, names in manifest.get("migrations", {}).items()
        for name in names
        if (app, name) not in known
    )


def known_migrations() -> set[tuple[str, str]]:
    from django.db.migrations.loader import MigrationLoader

    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def is_empty(install: Install) -> bool:
    """Nothing worth keeping: no database content, no uploads. Key files alone do not count —
    Kefu generates them on its first start, which the restore command itself is."""
    if any(_files_under(install.media_root)):
        return False
    if install.engine == "sqlite":
        path = install.sqlite_path
        if not path.exists() or path.stat().st_size == 0:
            return True
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            tables = connection.execute(
                "SELECT count(*) FROM sqlite_master WHERE type='table'"
            ).fetchone()[0]
        finally:
            connection.close()
        return tables == 0
    return not _pg_migrations(install.database)


def _safe_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BackupError(f"refusing the archive member {name!r}")
    return path


def restore_backup(
    archive: Path,
    install: Install | None = None,
    *,
    force: bool = False,
    known: set[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """Restore ``archive`` into ``install``; return the manifest. See the module docstring."""
    install = install or current_install()
    archive = Path(archive).resolve()
    manifest = read_manifest(archive)
    if manifest["engine"] != install.engine:
        raise BackupError(
            f"this backup holds a {manifest['engine']} database but the target uses "
            f"{install.engine}; restore into the same kind of database"
        )
    newer = unknown_migrations(manifest, known_migrations() if known is None else known)
    if newer:
        raise BackupError(
            "this backup comes from a newer Kefu (unknown migrations: "
            + ", ".join(newer[:5])
            + (" …" if len(newer) > 5 else "")
            + "); install that version or later, then restore"
        )
    if not force and not is_empty(install):
        raise BackupError(
            f"{install.data_dir} already holds data; restore into a fresh data directory, or "
            "pass --force to replace it (the current data is moved aside, not deleted)"
        )
    install.data_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=install.data_dir))
    try:
        _extract_verified(archive, manifest, staging)
        _close_database_connections()
        aside = install.data_dir / f"pre-restore-{stamp}"
        if install.engine == "sqlite":
            _put_sqlite(staging / SQLITE_MEMBER, install, aside)
        else:
            _pg_restore(staging / PGDUMP_MEMBER, install.database, clean=force)
        _put_tree(staging / "uploads", install.media_root, aside / "uploads")
        for name in KEY_FILES:
            staged = staging / "keys" / name
            if staged.is_file():
                _move_aside(install.data_dir / name, aside / name)
                os.replace(staged, install.data_dir / name)
                os.chmod(install.data_dir / name, 0o600)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _extract_verified(archive: Path, manifest: dict[str, Any], staging: Path) -> None:
    """Extract every listed member into ``staging``, checking its SHA-256 on the way; a
    missing, extra or altered member stops the restore before anything is replaced."""
    expected: dict[str, str] = dict(manifest.get("files", {}))
    if manifest.get("database") not in expected:
        raise BackupError("the backup has no database")
    seen: set[str] = set()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            relative = _safe_name(member.name)
            if not member.isfile() or member.name not in expected:
                raise BackupError(f"unexpected member {member.name!r} in the backup")
            source = tar.extractfile(member)
            if source is None:
                raise BackupError(f"cannot read {member.name!r}")
            target = staging.joinpath(*relative.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with open(target, "wb") as handle:
                while chunk := source.read(CHUNK):
                    digest.update(chunk)
                    handle.write(chunk)
            if digest.hexdigest() != expected[member.name]:
                raise BackupError(f"checksum mismatch for {member.name}: the backup is damaged")
            seen.add(member.name)
    missing = sorted(set(expected) - seen)
    if missing:
        raise BackupError(f"the backup is incomplete; missing {', '.join(missing[:5])}")


def _close_database_connections() -> None:
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: S110 - Django not set up (a tool using the module directly)
        pass


def _move_aside(path: Path, aside: Path) -> None:
    if path.exists():
        aside.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, aside)


def _put_sqlite(staged: Path, install: Install, aside: Path) -> None:
    target = install.sqlite_path
    target.parent.mkdir(parents=True, exist_ok=True)
    # A WAL or shared-memory file left from the old database would be replayed into the
    # restored one: they go aside with it.
    for suffix in ("", "-wal", "-shm", "-journal"):
        _move_aside(Path(f"{target}{suffix}"), aside / f"{target.name}{suffix}")
    shutil.move(staged, target)


def _put_tree(staged: Path, target: Path, aside: Path) -> None:
    if target.exists() and any(target.iterdir()):
        _move_aside(target, aside)
    elif target.exists():
        target.rmdir()
    target.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_dir():
        shutil.move(staged, target)  # a rename, unless MEDIA_ROOT is on another file system
    else:
        target.mkdir()


def _pg_restore(dump: Path, database: dict[str, Any], *, clean: bool) -> None:
    command = [
        _pg_tool("pg_restore"),
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        str(database["NAME"]),
    ]
    if clean:
        command += ["--clean", "--if-exists"]
    _run([*command, str(dump)], database)
