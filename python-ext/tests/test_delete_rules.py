"""``delete()`` does what the models declare (``on_delete=CASCADE`` / ``SET_NULL``) on an
existing schema whose foreign keys say otherwise (no ``ON DELETE``, or another action), as
Django does; a delete that fails leaves every row in place. Tables are created by hand
SQL; the expected rows are derived by hand from the rows inserted."""

from __future__ import annotations

from typing import Any

import chakra
import pytest
from chakra import CASCADE, SET_NULL, Field, ForeignKey, Integer, Model, String


class DrOwner(Model):
    __tablename__ = "dr_owners"
    id = Field(Integer, primary_key=True)
    name = Field(String(20))


class DrPet(Model):
    __tablename__ = "dr_pets"
    id = Field(Integer, primary_key=True)
    owner = ForeignKey("DrOwner", "pets", on_delete=CASCADE, type_=Integer)


class DrToy(Model):
    __tablename__ = "dr_toys"
    id = Field(Integer, primary_key=True)
    pet = ForeignKey("DrPet", on_delete=CASCADE, type_=Integer)


class DrBadge(Model):
    __tablename__ = "dr_badges"
    id = Field(Integer, primary_key=True)
    owner = ForeignKey("DrOwner", on_delete=SET_NULL, nullable=True, type_=Integer)


class DrVet(Model):
    __tablename__ = "dr_vets"
    id = Field(Integer, primary_key=True)
    pet = ForeignKey("DrPet", type_=Integer)  # RESTRICT, as declared in the database


# The database's own rules differ from the models': no ON DELETE for pets and toys (the
# default, NO ACTION: refuses), ON DELETE CASCADE where the model says SET NULL.
DDL = [
    "CREATE TABLE dr_owners (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)",
    "CREATE TABLE dr_pets (id INTEGER PRIMARY KEY, "
    "owner_id INTEGER NOT NULL REFERENCES dr_owners (id))",
    "CREATE TABLE dr_toys (id INTEGER PRIMARY KEY, "
    "pet_id INTEGER NOT NULL REFERENCES dr_pets (id))",
    "CREATE TABLE dr_badges (id INTEGER PRIMARY KEY, "
    "owner_id INTEGER REFERENCES dr_owners (id) ON DELETE CASCADE)",
    "CREATE TABLE dr_vets (id INTEGER PRIMARY KEY, "
    "pet_id INTEGER NOT NULL REFERENCES dr_pets (id))",
]
OWNERS = [(1, "ann"), (2, "bob"), (3, "cy")]
PETS = [(10, 1), (11, 1), (20, 2), (30, 3)]  # (id, owner_id)
TOYS = [(100, 10), (101, 11), (102, 11), (200, 20), (300, 30)]  # (id, pet_id)
BADGES = [(1000, 1), (1001, 2)]  # (id, owner_id); badge 1002 has no owner


@pytest.fixture(params=["sqlite", "postgres"])
async def hand_db(request: pytest.FixtureRequest, new_db: Any) -> Any:
    d = new_db(request.param)
    chakra.configure(d.url)
    for sql in DDL:
        await chakra.execute(sql)
    tables: list[tuple[str, list[tuple[Any, ...]]]] = [
        ("dr_owners", list(OWNERS)),
        ("dr_pets", list(PETS)),
        ("dr_toys", list(TOYS)),
        ("dr_badges", list(BADGES)),
    ]
    for table, rows in tables:
        for row in rows:
            marks = ", ".join("%s" for _ in row)
            await chakra.execute(f"INSERT INTO {table} VALUES ({marks})", list(row))
    await chakra.execute("INSERT INTO dr_badges (id) VALUES (1002)")
    yield d
    chakra.close(d.url)


async def table(name: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await chakra.fetch(f"SELECT * FROM {name} ORDER BY 1")]


async def test_model_delete_cascades_and_sets_null_as_declared(hand_db: Any) -> None:
    ann = await DrOwner.objects.get(id=1)
    await ann.delete()
    # ann's pets 10, 11 and their toys 100-102 go; badge 1000 stays with no owner (the
    # database alone would have deleted it, or refused the delete).
    assert await table("dr_owners") == [(2, "bob"), (3, "cy")]
    assert await table("dr_pets") == [(20, 2), (30, 3)]
    assert await table("dr_toys") == [(200, 20), (300, 30)]
    assert await table("dr_badges") == [(1000, None), (1001, 2), (1002, None)]


async def test_queryset_delete_filtered_through_the_cascaded_rows(hand_db: Any) -> None:
    # The filter reads the pets that the cascade deletes: the keys are read first.
    n = await DrOwner.objects.filter(pets__id__in=[20, 30]).delete()
    assert n == 2
    assert await table("dr_owners") == [(1, "ann")]
    assert await table("dr_pets") == [(10, 1), (11, 1)]
    assert await table("dr_toys") == [(100, 10), (101, 11), (102, 11)]
    assert await table("dr_badges") == [(1000, 1), (1001, None), (1002, None)]


async def test_a_refused_delete_leaves_every_row(hand_db: Any) -> None:
    await chakra.execute("INSERT INTO dr_vets VALUES (%s, %s)", [5, 11])  # restricts pet 11
    before = {t: await table(t) for t in ["dr_owners", "dr_pets", "dr_toys", "dr_badges"]}
    with pytest.raises(chakra.errors.IntegrityError):
        await DrOwner.objects.filter(id__in=[1, 2]).delete()
    for t, rows in before.items():
        assert await table(t) == rows, t
    # Inside a transaction too: the failed delete is undone, the transaction goes on.
    async with chakra.Session() as s, s.begin():
        with pytest.raises(chakra.errors.IntegrityError):
            await s.query(DrOwner).filter(id=1).delete()
        assert await s.query(DrOwner).filter(id=3).delete() == 1
    assert await table("dr_owners") == [(1, "ann"), (2, "bob")]
    assert await table("dr_toys") == [(100, 10), (101, 11), (102, 11), (200, 20)]
