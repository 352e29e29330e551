"""Numbered migrations: order, idempotence on reopen, one transaction each, clear errors."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from callfloor.store import MigrationError, Store
from callfloor.store.schema import MIGRATIONS_DIR, load


def applied(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as raw:
        return raw.execute(
            "SELECT version, name FROM schema_migrations ORDER BY version"
        ).fetchall()


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """The first shipped migration, copied where a test may add its own 002_... files."""
    dest = tmp_path / "migrations"
    dest.mkdir()
    shutil.copy(MIGRATIONS_DIR / "001_init.sql", dest)
    return dest


def test_shipped_migrations_load_in_order() -> None:
    found = load()
    assert [m.version for m in found] == sorted(m.version for m in found)
    assert found[0].version == 1 and found[0].name == "init"
    assert found[0].path.name == "001_init.sql"
    assert [m.path.name for m in found[1:3]] == ["002_call_survey_variables.sql", "003_dialer.sql"]


async def test_migrations_are_idempotent_on_reopen(tmp_path: Path) -> None:
    db = tmp_path / "floor.sqlite"
    for _ in range(3):
        s = await Store.open(db)
        await s.close()
    assert applied(db) == [(m.version, m.name) for m in load()]


async def test_new_migrations_run_in_number_order_once(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "floor.sqlite"
    await (await Store.open(db, migrations=folder)).close()
    (folder / "010_later.sql").write_text("ALTER TABLE seat_notes ADD COLUMN author TEXT;\n")
    (folder / "002_notes.sql").write_text("CREATE TABLE seat_notes (seat_id TEXT, note TEXT);\n")
    (folder / "README.txt").write_text("not a migration, ignored")
    await (await Store.open(db, migrations=folder)).close()
    await (await Store.open(db, migrations=folder)).close()
    assert applied(db) == [(1, "init"), (2, "notes"), (10, "later")]
    with sqlite3.connect(db) as raw:
        cols = [r[1] for r in raw.execute("PRAGMA table_info(seat_notes)")]
    assert cols == ["seat_id", "note", "author"]


async def test_a_failing_migration_names_its_file_and_applies_nothing(
    tmp_path: Path, folder: Path
) -> None:
    db = tmp_path / "floor.sqlite"
    (folder / "002_broken.sql").write_text(
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n"
    )
    with pytest.raises(
        MigrationError, match=r"002_broken\.sql: failed, nothing applied: .*no such table"
    ) as err:
        await Store.open(db, migrations=folder)
    assert err.value.path == folder / "002_broken.sql"
    assert applied(db) == [(1, "init")]  # 001 committed in its own transaction
    assert "half_done" not in tables(db)
    # Fixing the file lets the next start carry on.
    (folder / "002_broken.sql").write_text("CREATE TABLE half_done (x INTEGER);\n")
    await (await Store.open(db, migrations=folder)).close()
    assert applied(db) == [(1, "init"), (2, "broken")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "002_syntax.sql",
            "CREATE TABLE t (x INTEGER,);\n",
            r"002_syntax\.sql: failed.*syntax error",
        ),
        (
            "002_unfinished.sql",
            "CREATE TABLE t (x INTEGER)\n",
            r"002_unfinished\.sql: does not end with a complete SQL statement",
        ),
        ("002_empty.sql", "  \n-- \n", r"002_empty\.sql: does not end with a complete"),
        ("002_blank.sql", "", r"002_blank\.sql: is empty"),
        (
            "2_short.sql",
            "SELECT 1;",
            r"2_short\.sql: migration names look like 001_snake_case\.sql",
        ),
        ("002-Dash.sql", "SELECT 1;", r"002-Dash\.sql: migration names look like"),
        ("001_again.sql", "SELECT 1;", r"001_init\.sql: number 001 is also used by 001_again\.sql"),
    ],
)
async def test_bad_migration_files_are_clear_errors(
    tmp_path: Path, folder: Path, name: str, content: str, message: str
) -> None:
    (folder / name).write_text(content)
    with pytest.raises(MigrationError, match=message):
        await Store.open(tmp_path / "floor.sqlite", migrations=folder)


async def test_undecodable_migration_file(tmp_path: Path, folder: Path) -> None:
    (folder / "002_latin1.sql").write_bytes(b"-- caf\xe9\nSELECT 1;\n")
    with pytest.raises(MigrationError, match=r"002_latin1\.sql: cannot read"):
        await Store.open(tmp_path / "floor.sqlite", migrations=folder)


async def test_database_newer_than_the_code_is_refused(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "floor.sqlite"
    (folder / "002_extra.sql").write_text("CREATE TABLE extra (x);\n")
    await (await Store.open(db, migrations=folder)).close()
    (folder / "002_extra.sql").unlink()
    with pytest.raises(
        MigrationError, match="the database has migrations this build lacks: 002_extra"
    ):
        await Store.open(db, migrations=folder)


async def test_renamed_migration_is_refused(tmp_path: Path, folder: Path) -> None:
    db = tmp_path / "floor.sqlite"
    (folder / "002_extra.sql").write_text("CREATE TABLE extra (x);\n")
    await (await Store.open(db, migrations=folder)).close()
    (folder / "002_extra.sql").rename(folder / "002_other.sql")
    with pytest.raises(MigrationError, match=r"002_other\.sql: the database applied 002_extra"):
        await Store.open(db, migrations=folder)


async def test_missing_migrations_folder(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="cannot list migrations"):
        await Store.open(tmp_path / "floor.sqlite", migrations=tmp_path / "nowhere")
