"""Cross-language round trip: values written from Python read back identical from Rust, and
values written from Rust read back identical from Python, on SQLite and PostgreSQL.

The Rust half is ``chakra/examples/cross_language.rs`` (a ``#[derive(Model)]`` of the same
``things`` table), run with cargo.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from models import Thing

ROOT = Path(__file__).resolve().parents[2]

AT = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone.utc)
UID = uuid.UUID("6f1c2f4e-1b7a-4c3d-9e2f-0a1b2c3d4e5f")


def rust(command: str, url: str) -> str:
    """Runs the Rust half and returns its standard output."""
    done = subprocess.run(
        [
            "cargo",
            "run",
            "--quiet",
            "-p",
            "chakra",
            "--example",
            "cross_language",
            "--",
            command,
            url,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"cross_language {command} failed:\n{done.stderr}"
    return done.stdout


async def test_python_writes_rust_reads(db: Any) -> None:
    full = await Thing.objects.create(
        name="written by Python ✓ '%_\\",
        nick="Åsa",
        n=7,
        big=2**53 + 1,
        flag=True,
        score=2.5,
        price=Decimal("10.50"),
        at=AT,
        day=date(2024, 2, 29),
        data={"a": [1, 2, {"b": None}], "z": "ü"},
        tags=["x", "", "y,z"],
        uid=UID,
        blob=b"\x00\x01\xff\x00",
    )
    empty = await Thing.objects.create(name="nulls")
    rows = [json.loads(line) for line in rust("read", db.url).splitlines()]
    assert [r["id"] for r in rows] == [full.id, empty.id]
    got = rows[0]
    assert got["name"] == "written by Python ✓ '%_\\"
    assert got["nick"] == "Åsa"
    assert got["n"] == 7
    assert got["big"] == 2**53 + 1
    assert got["flag"] is True
    assert got["score"] == 2.5
    assert Decimal(got["price"]) == Decimal("10.50")
    assert got["at"] == "2024-02-29T23:59:58.123456Z"
    assert got["day"] == "2024-02-29"
    assert got["data"] == {"a": [1, 2, {"b": None}], "z": "ü"}
    assert got["tags"] == ["x", "", "y,z"]
    assert got["uid"] == str(UID)
    assert got["blob"] == "0001ff00"
    nulls = rows[1]
    assert nulls["name"] == "nulls"
    for field in ("nick", "n", "price", "at", "day", "data", "tags", "uid", "blob"):
        assert nulls[field] is None, field
    # Python's declared defaults were written and Rust reads them.
    assert (nulls["big"], nulls["flag"], nulls["score"]) == (0, False, 0.0)


async def test_rust_writes_python_reads(db: Any) -> None:
    new_id = int(rust("write", db.url).strip())
    t = await Thing.objects.get(id=new_id)
    assert t.name == "written by Rust ✓ '%_\\"
    assert t.nick is None
    assert t.n == -42
    assert t.big == 9_007_199_254_740_993
    assert t.flag is True
    assert t.score == -1.5e-3
    assert t.price == Decimal("12345678.90")
    assert t.at == datetime(2031, 1, 2, 3, 4, 5, 654321, tzinfo=timezone.utc)
    assert t.day == date(1970, 1, 1)
    assert t.data == {"k": [True, None, 1.5, "ü"]}
    assert t.tags == ["a", "", "c,d"]
    assert t.uid == uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF)
    assert t.blob == b"\x00\xff\x00\x01"
    # And Python's lookups find the Rust-written row by each typed value.
    assert await Thing.objects.filter(at=t.at, uid=t.uid, price=t.price, day=t.day).count() == 1
