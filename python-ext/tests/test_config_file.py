"""``chakra.toml`` (issue 19, item 9): an unknown table or key anywhere is a ``ConfigError``
naming it with the closest valid name (a misspelt ``[databse]`` used to be ignored, and the
process ran on a new local ``chakra.db``); the embedded default ``sqlite://chakra.db`` is said
once at INFO on the ``chakra`` logger. Each case runs in a fresh process in its own
directory (the default database is resolved once per process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import PG_ADMIN

SCRIPT = """
import logging, sys
logging.basicConfig(
    level=logging.INFO, stream=sys.stdout, format="%(name)s|%(levelname)s|%(message)s"
)
import chakra
try:
    for _ in range(3):
        chakra.execute_sync("SELECT 1")
        chakra.close()
    print("ran on", chakra.current_url())
except chakra.errors.ConfigError as e:
    print("ConfigError:", e)
"""


def run_in(tmp_path: Path, toml: str | None) -> list[str]:
    if toml is not None:
        (tmp_path / "chakra.toml").write_text(toml)
    env = {k: v for k, v in os.environ.items() if k != "CHAKRA_DATABASE_URL"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if not line.startswith("chakra.sql|")]


def test_a_misspelt_table_is_an_error_not_a_local_file(tmp_path: Path) -> None:
    lines = run_in(tmp_path, f'[databse]\nurl = "{PG_ADMIN}"\n')
    assert len(lines) == 1 and lines[0].startswith("ConfigError:"), lines
    assert "[databse]" in lines[0] and "did you mean [database]" in lines[0], lines
    assert not (tmp_path / "chakra.db").exists()


def test_a_misspelt_key_names_the_closest_setting(tmp_path: Path) -> None:
    lines = run_in(tmp_path, f'[database]\nurl = "{PG_ADMIN}"\nmax_sise = 3\n')
    assert lines[0].startswith("ConfigError:") and 'did you mean "max_size"' in lines[0], lines
    lines = run_in(tmp_path, '[migrations]\nmodel = ["app.models"]\n')
    assert lines[0].startswith("ConfigError:") and 'did you mean "models"' in lines[0], lines


def test_the_embedded_default_is_said_once(tmp_path: Path) -> None:
    lines = run_in(tmp_path, None)
    notes = [line for line in lines if line.startswith("chakra|INFO|")]
    assert len(notes) == 1, lines
    assert "no database configured" in notes[0] and "sqlite://chakra.db" in notes[0], notes
    assert lines[-1] == "ran on sqlite://chakra.db", lines
    assert (tmp_path / "chakra.db").exists()


def test_a_config_file_without_a_url_is_said_once(tmp_path: Path) -> None:
    lines = run_in(tmp_path, '[migrations]\nmodels = ["app.models"]\n')
    notes = [line for line in lines if line.startswith("chakra|INFO|")]
    assert len(notes) == 1 and "chakra.toml names no [database] url" in notes[0], lines


def test_a_configured_postgres_url_is_used_without_a_note(tmp_path: Path) -> None:
    lines = run_in(tmp_path, f'[database]\nurl = "{PG_ADMIN}"\nmax_size = 2\n')
    assert lines == [f"ran on {PG_ADMIN}"], lines
    assert not (tmp_path / "chakra.db").exists()


CONFIGURE_SCRIPT = """
import chakra
chakra.configure("sqlite://first.db")
print("configured", chakra.current_url())
chakra.configure()
print("lookup", chakra.current_url())
chakra.execute_sync("SELECT 1")
"""


def test_configure_without_a_url_goes_back_to_the_lookup_order(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "CHAKRA_DATABASE_URL"}
    env["CHAKRA_DATABASE_URL"] = "sqlite://from_env.db"
    out = subprocess.run(
        [sys.executable, "-c", CONFIGURE_SCRIPT],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "configured sqlite://first.db",
        "lookup sqlite://from_env.db",
    ], out.stdout
    assert (tmp_path / "from_env.db").exists() and not (tmp_path / "first.db").exists()
    (tmp_path / "chakra.toml").write_text('[databse]\nurl = "sqlite://x.db"\n')
    env.pop("CHAKRA_DATABASE_URL")
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import chakra\ntry:\n    chakra.configure()\n"
            "except chakra.errors.ConfigError as e:\n    print('ConfigError:', e)",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.stdout.startswith("ConfigError:") and "[databse]" in out.stdout, (
        out.stdout,
        out.stderr,
    )
