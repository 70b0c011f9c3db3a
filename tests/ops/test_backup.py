"""scripts/backup and scripts/restore round-trip the demo database, its documents included
(a backup is one database dump); archives from the time of uploaded files still restore."""

import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import voucher.models  # noqa: F401
from tests.conftest import BACKEND, POSTGRES_URL
from voucher.db import Base, make_engine

ROOT = Path(__file__).resolve().parents[2]


def figures(url: str) -> dict:
    """Row counts of every table and the money totals, to compare two databases."""
    engine = make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        result = {table.name: connection.execute(
            sa.select(sa.func.count()).select_from(table)).scalar()
            for table in Base.metadata.sorted_tables}
        result["budget_totals"] = tuple(connection.execute(sa.text(
            "SELECT coalesce(sum(amount_cents), 0), coalesce(sum(committed_cents), 0), "
            "coalesce(sum(released_cents), 0), coalesce(sum(spent_cents), 0) FROM budgets"
        )).one())
        result["audit_head"] = connection.execute(sa.text(
            "SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1")).scalar()
        result["documents"] = sorted(
            (row.document_id, row.sha256, hashlib.sha256(row.content).hexdigest())
            for row in connection.execute(sa.text(
                "SELECT document_id, sha256, content FROM provider_document_contents")))
    engine.dispose()
    return result


@pytest.fixture
def target_url(tmp_path):
    if BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"voucher_restore_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield re.sub(r"/[^/]*$", f"/{name}", POSTGRES_URL)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _script(name, *args, env):
    return subprocess.run([str(ROOT / "scripts" / name), *args], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=ROOT, check=False)


def _reconcile(url, env):
    """The reconciliation check and its figures, as an operator would run it."""
    return subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "voucher", "reconcile"],
                          capture_output=True, text=True, cwd=ROOT, check=False,
                          env={**os.environ, **env, "VOUCHER_DATABASE_URL": url})


@pytest.mark.slow
def test_backup_and_restore_give_the_same_figures(app, demo, database_url, target_url, tmp_path):
    archive = tmp_path / "backup.tar"
    env = {"VOUCHER_ENV": "development", "VOUCHER_DATABASE_URL": database_url,
           "VOUCHER_UPLOAD_DIR": str(tmp_path / "no-uploads-here")}

    made = _script("backup", str(archive), env=env)
    assert made.returncode == 0, made.stderr
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("manifest.json"))
    assert not any(name.startswith("uploads") for name in names)
    assert manifest["format"] == 2
    back = _script("restore", str(archive), "--database-url", target_url, env=env)
    assert back.returncode == 0, back.stderr

    restored = figures(target_url)
    assert restored == figures(database_url)
    assert restored["documents"] and all(row[1] == row[2] for row in restored["documents"])
    before, after = _reconcile(database_url, env), _reconcile(target_url, env)
    assert after.returncode == 0 and before.returncode == 0, after.stderr + before.stderr
    assert "Everything reconciles." in after.stdout
    assert "payments: " in after.stdout and after.stdout == before.stdout


def _old_archive(archive: Path, tmp_path: Path) -> Path:
    """The archive as backups made while documents were files (format 1): the same database
    and an ``uploads/`` folder."""
    old = tmp_path / "old-backup.tar"
    with tarfile.open(archive) as source, tarfile.open(old, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                data = json.dumps({**json.loads(data), "format": 1}).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
        content = b"%PDF-1.4 test document\n%%EOF\n"
        for name, data in (("uploads", None), ("uploads/a1b2c3.pdf", content)):
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                target.addfile(info)
            else:
                info.size = len(data)
                target.addfile(info, io.BytesIO(data))
    return old


@pytest.mark.slow
def test_an_archive_from_the_time_of_uploaded_files_restores_them(app, demo, database_url,
                                                                  target_url, tmp_path):
    archive = tmp_path / "backup.tar"
    env = {"VOUCHER_ENV": "development", "VOUCHER_DATABASE_URL": database_url}
    assert _script("backup", str(archive), env=env).returncode == 0
    old = _old_archive(archive, tmp_path)

    refused = _script("restore", str(old), "--database-url", target_url, env=env)
    assert refused.returncode == 1 and "--upload-dir" in refused.stderr
    restored_uploads = tmp_path / "restored-uploads"
    back = _script("restore", str(old), "--database-url", target_url, "--upload-dir",
                   str(restored_uploads), env=env)
    assert back.returncode == 0, back.stderr
    assert "documents import-files --upload-dir" in back.stdout
    assert (restored_uploads / "a1b2c3.pdf").read_bytes().startswith(b"%PDF")
    assert figures(target_url) == figures(database_url)


def test_restore_refuses_to_overwrite_data(app, demo, database_url, tmp_path):
    archive = tmp_path / "backup.tar"
    env = {"VOUCHER_ENV": "development", "VOUCHER_DATABASE_URL": database_url}
    assert _script("backup", str(archive), env=env).returncode == 0
    refused = _script("restore", str(archive), "--database-url", database_url, env=env)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr or "exists" in refused.stderr
