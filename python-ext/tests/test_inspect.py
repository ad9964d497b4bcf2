"""``python -m chakra migrate inspect`` and ``apply --fake-initial`` from the Python package:
a hand-written schema (made with raw SQL, written here for each backend: a self-reference,
two keys to one table, a reserved-word table and column, an enum-like check, a composite
unique, a partial index where the database has them) is inspected; ``--fake-initial``
records the files once ``check`` finds the database matches them; the Python models
generated from those files pass ``mypy --strict`` and ``migrate make --check`` against them;
and rows are created, read, changed and deleted through the generated models over the same
database, checked with hand-written SQL.

The generated module is imported in a subprocess (its classes would register process-wide).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from chakra import _chakra
from conftest import Db

SCHEMA = {
    "sqlite": """
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT 'anon',
  active BOOLEAN NOT NULL DEFAULT 1,
  status TEXT NOT NULL DEFAULT 'new',
  referrer_id INTEGER REFERENCES customers(id) ON DELETE SET NULL,
  deleted_at DATETIME,
  CONSTRAINT customers_status_enum CHECK (status IN ('new', 'vip', 'gone'))
);
CREATE INDEX customers_referrer_id_idx ON customers (referrer_id);
CREATE INDEX customers_live ON customers (email) WHERE deleted_at IS NULL;
CREATE TABLE "order" (
  id INTEGER PRIMARY KEY,
  "select" TEXT NOT NULL,
  buyer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  seller_id INTEGER REFERENCES customers(id),
  UNIQUE (buyer_id, "select")
);
CREATE INDEX order_buyer_id_idx ON "order" (buyer_id);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
""",
    "mysql": """
CREATE TABLE customers (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name LONGTEXT NOT NULL DEFAULT ('anon'),
  active BOOLEAN NOT NULL DEFAULT TRUE,
  status VARCHAR(255) NOT NULL DEFAULT 'new',
  referrer_id BIGINT,
  deleted_at DATETIME(6),
  CONSTRAINT customers_status_enum CHECK (status IN ('new', 'vip', 'gone'))
);
CREATE INDEX customers_referrer_id_idx ON customers (referrer_id);
ALTER TABLE customers ADD CONSTRAINT customers_referrer FOREIGN KEY (referrer_id)
  REFERENCES customers(id) ON DELETE SET NULL;
CREATE TABLE "order" (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  "select" VARCHAR(255) NOT NULL,
  buyer_id BIGINT NOT NULL,
  seller_id BIGINT,
  UNIQUE KEY order_buyer_id_select_key (buyer_id, "select")
);
CREATE INDEX order_buyer_id_idx ON "order" (buyer_id);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
ALTER TABLE "order" ADD FOREIGN KEY (buyer_id) REFERENCES customers(id) ON DELETE CASCADE;
ALTER TABLE "order" ADD FOREIGN KEY (seller_id) REFERENCES customers(id);
""",
    "postgres": """
CREATE TABLE customers (
  id BIGSERIAL PRIMARY KEY,
  email VARCHAR(120) NOT NULL UNIQUE,
  name TEXT NOT NULL DEFAULT 'anon',
  active BOOLEAN NOT NULL DEFAULT true,
  status VARCHAR(10) NOT NULL DEFAULT 'new',
  referrer_id BIGINT REFERENCES customers(id) ON DELETE SET NULL,
  deleted_at TIMESTAMPTZ,
  CONSTRAINT customers_status_check CHECK (status IN ('new', 'vip', 'gone'))
);
CREATE INDEX customers_referrer_id_idx ON customers (referrer_id);
CREATE INDEX customers_live ON customers (email) WHERE deleted_at IS NULL;
CREATE TABLE "order" (
  id BIGSERIAL PRIMARY KEY,
  "select" TEXT NOT NULL,
  buyer_id BIGINT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  seller_id BIGINT REFERENCES customers(id),
  UNIQUE (buyer_id, "select")
);
CREATE INDEX order_buyer_id_idx ON "order" (buyer_id);
CREATE INDEX order_seller_id_idx ON "order" (seller_id);
""",
}


def chakra(*args: str | Path, cwd: Path, code: int = 0) -> subprocess.CompletedProcess[str]:
    """``python -m chakra <args>`` in ``cwd`` (no colours); checks the exit status."""
    r = subprocess.run(
        [sys.executable, "-m", "chakra", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(cwd)},
        check=False,
    )
    assert r.returncode == code, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


CRUD = textwrap.dedent(
    """
    import asyncio, sys
    import chakra
    import shop_models as m

    async def main(url: str) -> None:
        chakra.configure(url)
        ann = await m.Customers.objects.create(email="ann@example.com", status="vip")
        bob = await m.Customers.objects.create(email="bob@example.com", referrer_id=ann.id)
        first = await m.Order.objects.create(select="first", buyer_id=bob.id, seller_id=ann.id)
        rows = await chakra.fetch(
            'SELECT email, name, status, referrer_id FROM customers ORDER BY id'
        )
        print(repr([tuple(r) for r in rows]))
        back = await m.Order.objects.get(id=first.id)
        print(repr((back.select, back.buyer_id == bob.id, back.seller_id == ann.id)))
        bob.name = "Bob"
        await bob.save()
        print(repr(await chakra.fetch("SELECT name FROM customers WHERE id = %s", [bob.id])))
        await back.delete()
        print(repr(await chakra.fetch('SELECT COUNT(*) FROM "order"')))
        chakra.close(url)

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres", "mysql"])
def test_an_inspected_database_is_adopted_and_its_generated_models_work(
    tmp_path: Path, backend: str, new_db: object
) -> None:
    db: Db = new_db(backend)  # type: ignore[operator]
    _chakra.batch_job(_chakra.PoolRef(db.url), SCHEMA[backend]).run_sync()
    migrations = tmp_path / "migrations"
    made = chakra(
        "migrate",
        "inspect",
        "--database-url",
        db.url,
        "--app",
        "shop",
        "--out",
        migrations,
        cwd=tmp_path,
    )
    assert "0001_initial.toml" in made.stdout
    assert "not represented" not in made.stderr and "differs" not in made.stderr, made.stderr
    chakra("migrate", "check", "--database-url", db.url, "--dir", migrations, cwd=tmp_path, code=1)
    faked = chakra(
        "migrate",
        "apply",
        "--fake-initial",
        "--database-url",
        db.url,
        "--dir",
        migrations,
        cwd=tmp_path,
    )
    assert "recorded shop/0001_initial" in faked.stdout
    checked = chakra(
        "migrate", "check", "--database-url", db.url, "--dir", migrations, cwd=tmp_path
    )
    assert "matches" in checked.stdout

    out = tmp_path / "shop_models.py"
    chakra(
        "generate",
        "models",
        "--lang",
        "python",
        "--out",
        out,
        "--migrations",
        migrations,
        cwd=tmp_path,
    )
    mypy = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    agree = chakra(
        "migrate", "make", "--models", "shop_models", "--dir", migrations, "--check", cwd=tmp_path
    )
    assert "agree" in agree.stdout, agree.stdout

    (tmp_path / "crud.py").write_text(CRUD)
    r = subprocess.run(
        [sys.executable, "crud.py", db.url],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == repr(
        [("ann@example.com", "anon", "vip", None), ("bob@example.com", "anon", "new", 1)]
    ), lines
    assert lines[1] == repr(("first", True, True)), lines
    assert lines[2] == repr([("Bob",)]) or lines[2] == repr([["Bob"]]), lines
    assert "0" in lines[3], lines
