"""``kefu backup create`` / ``restore``: backup → wipe → restore yields every row of every table
and every uploaded file again (SQLite, and PostgreSQL with pg_dump); damaged, newer or misplaced
archives are refused before anything is replaced."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
import tarfile
import threading
from pathlib import Path

import pytest
from django.db import connection

from kefu.conftest import skip_or_fail
from kefu.lib.backup import (
    BackupError,
    Install,
    create_backup,
    known_migrations,
    read_manifest,
    restore_backup,
    sqlite_install,
)
from kefu.tickets.actions import UploadedFile

needs_sqlite = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the embedded (SQLite) layout; PostgreSQL is tested below"
)


def _sqlite_rows(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table (FTS shadow tables included), in a stable order."""
    db = sqlite3.connect(path)
    try:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
            )
        ]
        return {
            table: sorted(db.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in tables
        }
    finally:
        db.close()


def _files(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def install_with_data(transactional_db, cast, make_ticket, settings, tmp_path):
    """A data directory holding a real SQLite file with the cast, tickets and an upload."""
    data_dir = tmp_path / "data"
    install = sqlite_install(data_dir)
    settings.MEDIA_ROOT = install.media_root
    make_ticket(
        cast.alice,
        subject="备份 backup",
        attachments=[UploadedFile("manual.pdf", b"%PDF-1.4 manual", "application/pdf")],
    )
    make_ticket(cast.carol, subject="second")
    data_dir.mkdir(parents=True, exist_ok=True)
    connection.ensure_connection()
    target = sqlite3.connect(install.sqlite_path)
    connection.connection.backup(target)  # the test database as the install's file
    target.close()
    (data_dir / "secret_key").write_text("the-secret-key")
    (data_dir / "encryption_key").write_text("the-encryption-key")
    return install


@needs_sqlite
def test_backup_wipe_restore_gives_back_every_row_and_file(install_with_data, tmp_path):
    install = install_with_data
    archive = tmp_path / "backups" / "kefu.tar.gz"
    manifest = create_backup(archive, install)
    rows_before = _sqlite_rows(install.sqlite_path)
    files_before = _files(install.media_root)
    assert files_before  # the attachment is there
    assert manifest["engine"] == "sqlite" and "tickets" in manifest["migrations"]
    assert sum(len(rows) for rows in rows_before.values()) > 50

    shutil.rmtree(install.data_dir)
    restore_backup(archive, install, known=known_migrations())

    assert _sqlite_rows(install.sqlite_path) == rows_before
    assert _files(install.media_root) == files_before
    assert (install.data_dir / "secret_key").read_text() == "the-secret-key"
    assert (install.data_dir / "encryption_key").read_text() == "the-encryption-key"


@needs_sqlite
def test_it_refuses_a_non_empty_data_dir_unless_forced(install_with_data, tmp_path):
    install = install_with_data
    archive = tmp_path / "kefu.tar.gz"
    create_backup(archive, install)
    rows_before = _sqlite_rows(install.sqlite_path)
    with pytest.raises(BackupError, match="already holds data"):
        restore_backup(archive, install, known=known_migrations())
    db = sqlite3.connect(install.sqlite_path)
    db.execute("DELETE FROM tickets_ticketevent")
    db.commit()
    db.close()
    restore_backup(archive, install, force=True, known=known_migrations())
    assert _sqlite_rows(install.sqlite_path) == rows_before
    aside = list(install.data_dir.glob("pre-restore-*"))
    assert len(aside) == 1 and (aside[0] / "kefu.sqlite3").exists()  # moved aside, not deleted


@needs_sqlite
def test_a_damaged_archive_is_refused_before_anything_changes(install_with_data, tmp_path):
    install = install_with_data
    archive = tmp_path / "kefu.tar.gz"
    create_backup(archive, install)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w:gz") as target:
        for member in source:
            data = source.extractfile(member).read()
            if member.name.startswith("uploads/"):
                data = data + b" tampered"
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    fresh = sqlite_install(tmp_path / "fresh")
    with pytest.raises(BackupError, match="checksum mismatch"):
        restore_backup(damaged, fresh, known=known_migrations())
    assert not fresh.sqlite_path.exists()


@needs_sqlite
def test_an_archive_from_a_newer_kefu_is_refused(install_with_data, tmp_path):
    archive = tmp_path / "kefu.tar.gz"
    create_backup(archive, install_with_data)
    known = known_migrations() - {("tickets", read_manifest(archive)["migrations"]["tickets"][-1])}
    fresh = sqlite_install(tmp_path / "fresh")
    with pytest.raises(BackupError, match="newer Kefu"):
        restore_backup(archive, fresh, known=known)
    assert not fresh.sqlite_path.exists()


def test_a_file_that_is_no_backup_is_refused(tmp_path):
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    with pytest.raises(BackupError, match="not a Kefu backup"):
        read_manifest(bogus)


def test_the_snapshot_is_consistent_while_another_process_writes(tmp_path):
    """The online backup API copies one point in time while a writer keeps inserting."""
    data_dir = tmp_path / "busy"
    data_dir.mkdir()
    install = sqlite_install(data_dir)
    db = sqlite3.connect(install.sqlite_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE django_migrations (app TEXT, name TEXT)")
    db.execute("CREATE TABLE counter (n INTEGER PRIMARY KEY, total INTEGER)")
    db.executemany("INSERT INTO counter VALUES (?, ?)", [(n, n) for n in range(1, 2001)])
    db.commit()
    stop = threading.Event()

    def write() -> None:
        writer = sqlite3.connect(install.sqlite_path, timeout=30)
        n = 2001
        while not stop.is_set():
            # Each transaction keeps the invariant total(n) == n for every row.
            writer.execute("INSERT INTO counter VALUES (?, ?)", (n, n))
            writer.commit()
            n += 1
        writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        create_backup(tmp_path / "busy.tar.gz", install)
    finally:
        stop.set()
        thread.join()
    restored = sqlite_install(tmp_path / "restored")
    restore_backup(tmp_path / "busy.tar.gz", restored, known=set())
    check = sqlite3.connect(restored.sqlite_path)
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    count, largest = check.execute("SELECT count(*), max(n) FROM counter").fetchone()
    check.close()
    assert count == largest >= 2000  # no gap: one consistent moment


@needs_sqlite
def test_kefu_backup_commands(install_with_data, tmp_path, monkeypatch, capsys):
    from kefu.cli import main
    from kefu.lib import backup

    monkeypatch.setattr(backup, "current_install", lambda: install_with_data)
    archive = tmp_path / "cli.tar.gz"
    assert main(["backup", "create", str(archive)]) == 0
    assert "uploaded files" in capsys.readouterr().out
    fresh = tmp_path / "fresh-dir"
    assert main(["backup", "restore", str(archive), "--data-dir", str(fresh)]) == 0
    assert (fresh / "kefu.sqlite3").exists()
    assert main(["backup", "restore", str(archive), "--data-dir", str(fresh)]) == 1
    assert "--force" in capsys.readouterr().err


# --- PostgreSQL -----------------------------------------------------------------------------


def _pg_rows(database: dict) -> dict[str, list[tuple]]:
    from kefu.lib.backup import _pg_connect

    with _pg_connect(database) as pg:
        tables = [
            name
            for (name,) in pg.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
            )
        ]
        return {
            table: sorted(pg.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)  # noqa: S608
            for table in tables
        }


def test_postgresql_backup_restores_every_row(
    transactional_db, cast, make_ticket, settings, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("runs when the suite runs on PostgreSQL (KEFU_DATABASE_URL)")
    if not shutil.which("pg_dump") or not shutil.which("pg_restore"):
        skip_or_fail("pg_dump / pg_restore are not installed (apt-get install postgresql-client)")
    from kefu.lib.backup import _pg_connect

    settings.MEDIA_ROOT = tmp_path / "data" / "uploads"
    make_ticket(
        cast.alice,
        attachments=[UploadedFile("photo.jpg", b"\xff\xd8 jpeg", "image/jpeg")],
    )
    source_db = dict(connection.settings_dict)
    source = Install(data_dir=tmp_path / "data", media_root=settings.MEDIA_ROOT, database=source_db)
    archive = tmp_path / "pg.tar.gz"
    manifest = create_backup(archive, source)
    assert manifest["engine"] == "postgresql" and manifest["database"].endswith(".pgdump")

    scratch = f"{source_db['NAME']}_restore"
    admin_db = {**source_db, "NAME": "postgres"}
    with _pg_connect(admin_db) as pg:
        pg.execute(f'DROP DATABASE IF EXISTS "{scratch}"')
        pg.execute(f'CREATE DATABASE "{scratch}"')
    try:
        target = Install(
            data_dir=tmp_path / "restored",
            media_root=tmp_path / "restored" / "uploads",
            database={**source_db, "NAME": scratch},
        )
        restore_backup(archive, target, known=known_migrations())
        assert _pg_rows(target.database) == _pg_rows(source_db)
        assert _files(target.media_root) == _files(source.media_root)
        with pytest.raises(BackupError, match="already holds data"):
            restore_backup(archive, target, known=known_migrations())
    finally:
        with _pg_connect(admin_db) as pg:
            pg.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
