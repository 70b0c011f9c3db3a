"""Backups of the database, and restoring them.

A backup is one tar archive: ``manifest.json`` and the database (``database.pgdump`` made with
pg_dump's custom format, or ``database.sqlite3`` copied with SQLite's online backup API while
the app runs). The provider documents are in the database, so the dump holds everything.
Restoring goes into an empty database (PostgreSQL) or a new file (SQLite); it never overwrites
live data.

Archives made before the documents moved into the database (format 1) also hold
``uploads/``: restoring one puts those files into ``--upload-dir`` (an empty directory), from
where ``flask --app voucher documents import-files --upload-dir DIR`` moves them in after
``db upgrade``.

    python -m voucher.backup create [ARCHIVE]
    python -m voucher.backup restore ARCHIVE --database-url URL [--upload-dir DIR]
(scripts/backup and scripts/restore wrap these with the app's configuration.)
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import sqlalchemy as sa

from voucher import clock
from voucher.db import make_engine


class BackupError(RuntimeError):
    pass


def _backend(url: str) -> str:
    if url.startswith("sqlite:///"):
        return "sqlite"
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return "postgresql"
    raise BackupError(f"unsupported database URL: {url.split(':', 1)[0]}")


def _libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _sqlite_path(url: str) -> Path:
    return Path(url.removeprefix("sqlite:///"))


def _revision(url: str) -> str | None:
    from voucher.migrations import current_revision

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def create_backup(database_url: str, archive: str | Path) -> Path:
    """Write a backup archive of the database; returns its path."""
    archive = Path(archive)
    backend = _backend(database_url)
    manifest = {"created_at": clock.now().isoformat(), "backend": backend,
                "migration": _revision(database_url), "format": 2}
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / ("database.pgdump" if backend == "postgresql" else "database.sqlite3")
        if backend == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--dbname={_libpq_url(database_url)}", f"--file={dump}"])
        else:
            source = sqlite3.connect(_sqlite_path(database_url))
            target = sqlite3.connect(dump)
            with target:
                source.backup(target)  # consistent even while the app writes
            source.close()
            target.close()
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=dump.name)
    return archive


def restore_backup(archive: str | Path, database_url: str,
                   upload_dir: str | Path | None = None) -> dict:
    """Restore an archive into an empty database; returns the manifest. The files of an old
    archive's ``uploads/`` go into ``upload_dir``, which must be empty; the manifest's
    ``uploads_restored_to`` then names it."""
    backend = _backend(database_url)
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
        manifest = json.loads((Path(work) / "manifest.json").read_text())
        if manifest["backend"] != backend:
            raise BackupError(f"the backup is of {manifest['backend']}, the target is {backend}")
        old_uploads = Path(work) / "uploads"
        uploads = None
        if old_uploads.is_dir() and any(old_uploads.iterdir()):
            if upload_dir is None:
                raise BackupError("the backup holds uploaded files (made before the documents "
                                  "moved into the database): give --upload-dir")
            uploads = Path(upload_dir)
            if uploads.exists() and any(uploads.iterdir()):
                raise BackupError(f"the upload directory {uploads} is not empty")
        if backend == "postgresql":
            _ensure_empty_postgres(database_url)
            _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={_libpq_url(database_url)}", str(Path(work) / "database.pgdump")])
        else:
            target = _sqlite_path(database_url)
            if target.exists() and target.stat().st_size > 0:
                raise BackupError(f"{target} exists; restore into a new file")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(work) / "database.sqlite3", target)
        if uploads is not None:
            shutil.copytree(old_uploads, uploads, dirs_exist_ok=True)
            manifest["uploads_restored_to"] = str(uploads)
    return manifest


def _ensure_empty_postgres(url: str) -> None:
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            tables = connection.execute(sa.text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            )).scalar()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("the target database is not empty; restore into a new database")


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def main(argv: list[str] | None = None) -> int:
    from voucher.config import load_config

    config = load_config()
    parser = argparse.ArgumentParser(prog="voucher.backup")
    commands = parser.add_subparsers(dest="command", required=True)
    make = commands.add_parser("create", help="back up the configured database")
    make.add_argument("archive", nargs="?")
    back = commands.add_parser("restore", help="restore an archive into an empty database")
    back.add_argument("archive")
    back.add_argument("--database-url", default=config["DATABASE_URL"])
    back.add_argument("--upload-dir", help="where the files of an archive made before the "
                      "documents moved into the database go (an empty directory)")
    args = parser.parse_args(argv)
    try:
        if args.command == "create":
            stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
            archive = args.archive or f"{config['INSTANCE_PATH']}/backups/voucher-{stamp}.tar"
            path = create_backup(config["DATABASE_URL"], archive)
            print(f"Backup written to {path}")
        else:
            manifest = restore_backup(args.archive, args.database_url, args.upload_dir)
            print(f"Restored the backup of {manifest['created_at']} "
                  f"(migration {manifest['migration']}).")
            if "uploads_restored_to" in manifest:
                print(f"Its uploaded files are in {manifest['uploads_restored_to']}: after "
                      "`flask --app voucher db upgrade`, move them into the database with "
                      "`flask --app voucher documents import-files --upload-dir "
                      f"{manifest['uploads_restored_to']}`.")
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
