"""Cross-language round trip: values written from Python read back identical from Rust, and
values written from Rust read back identical from Python, on SQLite, PostgreSQL and
MySQL/MariaDB (which has no array columns: there the rows leave ``tags`` NULL, and a list is
refused by name, docs/mysql.md).

The Rust half is ``chakra/examples/cross_language.rs`` (a ``#[derive(Model)]`` of the same
``things`` table), run with cargo.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import errors
from models import Status, Thing

ROOT = Path(__file__).resolve().parents[2]

AT = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone.utc)
UID = uuid.UUID("6f1c2f4e-1b7a-4c3d-9e2f-0a1b2c3d4e5f")


def arrays(db: Any) -> bool:
    """Whether the backend has array columns (MySQL/MariaDB refuses array values by name)."""
    return bool(db.backend != "mysql")


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
    tags = ["x", "", "y,z"] if arrays(db) else None
    if not arrays(db):
        with pytest.raises(errors.BadValue, match="array values are not supported") as refused:
            await Thing.objects.create(name="refused", tags=["x"])
        assert (refused.value.model, refused.value.field) == ("Thing", "tags")
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
        tags=tags,
        uid=UID,
        blob=b"\x00\x01\xff\x00",
        status=Status.ON_HOLD,
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
    assert got["tags"] == tags
    assert got["uid"] == str(UID)
    assert got["blob"] == "0001ff00"
    assert got["status"] == "on hold"
    nulls = rows[1]
    assert nulls["name"] == "nulls"
    for field in ("nick", "n", "price", "at", "day", "data", "tags", "uid", "blob", "status"):
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
    assert t.tags == (["a", "", "c,d"] if arrays(db) else None)
    assert t.uid == uuid.UUID(int=0x0123456789ABCDEF0123456789ABCDEF)
    assert t.blob == b"\x00\xff\x00\x01"
    assert t.status is Status.CLOSED
    # And Python's lookups find the Rust-written row by each typed value.
    assert await Thing.objects.filter(at=t.at, uid=t.uid, price=t.price, day=t.day).count() == 1
    assert await Thing.objects.filter(status=Status.CLOSED).count() == 1
    assert await Thing.objects.filter(status__in=["open", "on hold"]).count() == 0
    if db.backend == "postgres":
        # The enum went through PostgreSQL's native type, as both doors create it.
        got_type = await chakra.fetch(
            "SELECT format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = 'things'::regclass AND attname = 'status'"
        )
        assert got_type == [("thing_status",)]


# --- The type matrix's edge values, both ways ------------------------------------------------

NESTED = {"ключ": ["😀", {"深": [[], [[]]]}], "esc": 'a"b\\c\n\t', "n": -0.5e-7}
MB = bytes(range(256)) * 4096


def edge_rows(arrays: bool = True) -> list[dict[str, Any]]:
    """The lowest and highest value of each type, and a row of NULLs (the same values as
    ``edges()`` in chakra/examples/cross_language.rs; without ``tags`` when the backend has
    no arrays)."""
    low = {
        "nick": "",
        "n": -(2**31),
        "big": -(2**63),
        "score": 2.2250738585072014e-308,
        "price": Decimal("-99999999.99"),
        "at": datetime(1, 1, 1, tzinfo=timezone.utc),
        "day": date(1, 1, 1),
        "data": NESTED,
        "tags": [],
        "uid": uuid.UUID(int=0),
        "blob": MB,
        "amount": Decimal("-123456789012345678901234567890.123456789"),
        "status": Status.OPEN,
    }
    high = {
        "n": 2**31 - 1,
        "big": 2**63 - 1,
        "flag": True,
        "score": 1.7976931348623157e308,
        "price": Decimal("99999999.99"),
        "at": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
        "day": date(9999, 12, 31),
        "data": [],
        "tags": ["", "ü", "😀", 'a,b"c'],
        "uid": uuid.UUID(int=2**128 - 1),
        "blob": b"",
        "amount": Decimal("0.000000000000000000000000000001"),
        "status": Status.ON_HOLD,
    }
    if not arrays:
        del low["tags"], high["tags"]
    return [low, high, {}]


def as_json_form(field: str, v: Any) -> Any:
    """A Python value in the Rust reader's canonical JSON form."""
    if v is None:
        return None
    if isinstance(v, Decimal):
        return v
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ").rjust(27, "0")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, Status):
        return v.value
    return v


async def test_edge_values_python_writes_rust_reads(db: Any) -> None:
    rows = edge_rows(arrays(db))
    # A non-UTC offset is stored as the same instant in UTC.
    rows[1]["at"] = datetime(
        2024, 6, 1, 17, 30, 0, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    made = [await Thing.objects.create(name=f"py {i}", **r) for i, r in enumerate(rows)]
    got = {r["id"]: r for r in (json.loads(line) for line in rust("read", db.url).splitlines())}
    for obj, written in zip(made, rows, strict=True):
        back = got[obj.id]
        for field in (
            "nick",
            "n",
            "big",
            "flag",
            "score",
            "price",
            "at",
            "day",
            "data",
            "tags",
            "uid",
            "blob",
            "amount",
            "status",
        ):
            want = as_json_form(field, written.get(field))
            have = back[field]
            if field in ("price", "amount") and have is not None:
                have = Decimal(have)
            if field == "flag" and want is None:
                want = False
            if field in ("big", "score") and want is None:
                want = 0
            assert have == want, (obj.name, field, have, want)
    assert got[made[1].id]["at"] == "2024-06-01T12:00:00.000001Z"


async def test_edge_values_rust_writes_python_reads(db: Any) -> None:
    ids = [int(x) for x in rust("write-edges", db.url).split()]
    objs = [await Thing.objects.get(id=i) for i in ids]
    for obj, want in zip(objs, edge_rows(arrays(db)), strict=True):
        for field, value in want.items():
            assert getattr(obj, field) == value, (obj.name, field)
    nulls = objs[2]
    for field in (
        "nick",
        "n",
        "price",
        "at",
        "day",
        "data",
        "tags",
        "uid",
        "blob",
        "amount",
        "status",
    ):
        assert getattr(nulls, field) is None, field
    # Python's lookups find the Rust-written rows by their edge values.
    assert await Thing.objects.filter(big=-(2**63), amount=edge_rows()[0]["amount"]).count() == 1
    assert await Thing.objects.filter(at=edge_rows()[1]["at"], day=date(9999, 12, 31)).count() == 1


async def test_nul_in_text_is_refused_on_both_backends(db: Any) -> None:
    from chakra import errors

    for bad in ({"name": "a\x00b"}, {"name": "ok", "data": {"k": "\x00"}}):
        try:
            await Thing.objects.create(**bad)
        except errors.BadValue as e:
            assert "NUL" in str(e)
        else:
            raise AssertionError(f"{bad} was stored")
    assert await Thing.objects.count() == 0
