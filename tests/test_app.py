"""Application factory, configuration layers and schema migrations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from search_app import config, create_app

README = Path(__file__).resolve().parent.parent / "README.md"
SETTINGS = {name for name in dir(config) if name.isupper()}


def test_config_layers_env_then_test_config(tmp_path, monkeypatch):
    instance = tmp_path / "inst"
    instance.mkdir()
    (instance / "config.py").write_text('PREFECTURE_CODE = "27"\nBASE_URL = "https://a"\n')
    monkeypatch.setenv("PMH_INSTANCE_PATH", str(instance))
    monkeypatch.setenv("PMH_BASE_URL", "https://from-env")
    app = create_app({"PREFECTURE_CODE": "14"})
    assert app.instance_path == str(instance)
    assert app.config["BASE_URL"] == "https://from-env"
    assert app.config["PREFECTURE_CODE"] == "14"
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'pmh.sqlite3'}"
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0


def test_debug_refused_in_production(tmp_path):
    import pytest

    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENV_NAME": "production", "DEBUG": True})


def test_short_audit_key_refused_in_production(tmp_path):
    import pytest

    config = {"INSTANCE_PATH": str(tmp_path), "ENV_NAME": "production", "SECRET_KEY": "x" * 64}
    with pytest.raises(RuntimeError, match="AUDIT_KEY"):
        create_app(config | {"AUDIT_KEY": "short"})


def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_db_upgrade_command_is_idempotent(app):
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        assert "head" in result.output


def _documented_settings() -> set[str]:
    """Return the settings named in the README's configuration table (`_SUFFIX` expanded)."""
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    names = set()
    for line in section.split("\n## ", 1)[0].splitlines():
        cell = line.split("|")[1] if line.startswith("| `") else ""
        parts = [p.removeprefix("PMH_") for p in re.findall(r"`([A-Z_]+)`", cell)]
        words = parts[0].split("_") if parts else []
        stems = ["_".join(words[:i]) for i in range(len(words), 0, -1)]
        for part in parts:
            found = [stem + part for stem in stems if stem + part in SETTINGS]
            names.add(found[0] if part.startswith("_") and found else part)
    return names


def test_readme_table_lists_every_setting_of_config_py():
    assert sorted(SETTINGS - _documented_settings()) == []
    assert sorted(_documented_settings() - SETTINGS) == ["INSTANCE_PATH"]  # read before config


def test_migration_0009_makes_existing_facilities_psychiatric(database_url):
    from alembic import command
    from sqlalchemy import text
    from sqlmodel import Session, select

    from surveys.database import alembic_config, make_engine
    from surveys.models import Facility, utcnow

    config = alembic_config(database_url)
    command.downgrade(config, "0008")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO facility (source_id, name, kana, kind, departments, prefecture_code,"
                " municipality_code, postal_code, address, phone, email, website, hours, station,"
                " name_en, created_at, updated_at) VALUES ('1310100001', '旧クリニック', '',"
                " 'clinic', '精神科', '13', '13101', '', '', '', '', '', '', '', '', :at, :at)"
            ),
            {"at": utcnow()},
        )
    command.upgrade(config, "head")
    with Session(engine) as session:
        old = session.exec(select(Facility)).one()
        assert (old.name, old.category, old.kind) == ("旧クリニック", "psychiatric", "clinic")
        session.add(
            Facility(
                source_id="M-13101",
                name="千代田区 こども家庭センター",
                category="municipal",
                kind="family_center",
                phone="03-0000-0000",
            )
        )
        session.commit()
        kinds = session.exec(select(Facility.category, Facility.kind).order_by(Facility.id)).all()
    engine.dispose()
    assert kinds == [("psychiatric", "clinic"), ("municipal", "family_center")]
    with pytest.raises(RuntimeError, match="1 obstetric units or contact points exist"):
        command.downgrade(config, "0008")
    engine = make_engine(database_url)
    with Session(engine) as session:
        assert len(session.exec(select(Facility)).all()) == 2  # nothing deleted, nothing orphaned
    engine.dispose()
