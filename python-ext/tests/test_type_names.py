"""Field type, relation kind and concurrency names are parsed once, in the core: the Python
door and the migration files accept the same type names (every field type the Python package
declares is read by ``chakra migrate`` under the name it sends), and an unknown name is
refused by both with the same list of accepted names."""

from __future__ import annotations

import enum
import re
from pathlib import Path
from typing import Any

import chakra
import pytest
from chakra import _chakra, errors, migrate

# One of each field type the Python package declares (an array of integers for arrays).
TYPES: list[Any] = [
    chakra.Integer,
    chakra.BigInteger,
    chakra.String(20),
    chakra.Text,
    chakra.Boolean,
    chakra.Float,
    chakra.Decimal(10, 2),
    chakra.DateTime,
    chakra.Date,
    chakra.Bytes,
    chakra.JSON,
    chakra.UUID,
    chakra.Array(chakra.Integer),
]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


ACCEPTED = (
    "Integer, BigInteger, String, Text, Boolean, Float, Decimal, DateTime, Date, Bytes, "
    "JSON, UUID, Enum, Array(<type>)"
)


def spec_of(t: Any) -> tuple[Any, ...]:
    return tuple((t() if isinstance(t, type) else t).spec())


def file_name(spec: tuple[Any, ...]) -> str:
    """The name a migration file writes for a type spec (``Array(Integer)`` for arrays)."""
    return f"Array({file_name(spec[1])})" if spec[0] == "Array" else str(spec[0])


def field(name: str, type_spec: tuple[Any, ...], **kw: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": name,
        "column": name,
        "type": type_spec,
        "primary_key": False,
        "auto_increment": False,
        "unique": False,
        "nullable": True,
        "index": False,
        "default_now": False,
    }
    d.update(kw)
    return d


def register(type_spec: tuple[Any, ...], **kw: Any) -> None:
    class Probe:
        pass

    _chakra.register_model(
        Probe,
        "NameProbe",
        "name_probes",
        [
            field("id", ("BigInteger",), primary_key=True, auto_increment=True, nullable=False),
            field("v", type_spec, **kw),
        ],
        [],
    )


def migration(tmp: Path, type_lines: str) -> Path:
    d = tmp / "migrations"
    (d / "probe").mkdir(parents=True, exist_ok=True)
    (d / "probe" / "0001_initial.toml").write_text(
        '[migration]\nid = "0001_initial"\napp = "probe"\n\n'
        '[[operations]]\ntype = "CreateModel"\nname = "Probe"\ntable = "probes"\n\n'
        '[[operations.fields]]\nname = "id"\ntype = "BigInteger"\nprimary_key = true\n'
        "auto_increment = true\n\n"
        f'[[operations.fields]]\nname = "v"\n{type_lines}nullable = true\n'
    )
    return d


def test_the_python_door_and_migrations_accept_the_same_type_names(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    specs = [spec_of(t) for t in TYPES] + [spec_of(chakra.Enum(Colour, name="colour"))]
    assert sorted({s[0] for s in specs}) == sorted(ACCEPTED.replace("(<type>)", "").split(", "))
    for spec in specs:
        register(spec)  # accepted by the Python door
        lines = f'type = "{file_name(spec)}"\n'
        if spec[0] == "Enum":
            lines += 'enum = "colour"\nvalues = ["red", "blue"]\n'
        d = migration(tmp_path / spec[0], lines)
        assert migrate.run("sql", "--dialect", "sqlite", dir=d) == 0, capfd.readouterr()
        out = capfd.readouterr().out
        assert 'CREATE TABLE "probes"' in out and '"v"' in out, out

    for bad in ["Varchar", "integer", "Array(Nope)"]:
        with pytest.raises(
            errors.ConfigError, match=re.escape(f'unknown field type "{bad}"; expected one of ')
        ) as e:
            register((bad,))
        assert ACCEPTED in str(e.value)
        d = migration(tmp_path / f"bad_{bad}", f'type = "{bad}"\n')
        assert migrate.run("sql", "--dialect", "sqlite", dir=d) != 0
        err = capfd.readouterr().err
        assert f'unknown type "{bad}"; expected one of {ACCEPTED}' in err, err


def test_relation_kind_and_concurrency_names_are_the_cores() -> None:
    with pytest.raises(
        errors.ConfigError,
        match='unknown concurrency "optimistic"; expected one of compare, version, unchecked',
    ):
        register(("Integer",), concurrency="optimistic")
    for word in ["compare", "version", "unchecked"]:
        register(("Integer",), concurrency=word)

    class Probe:
        pass

    pk = field("id", ("BigInteger",), primary_key=True, auto_increment=True, nullable=False)
    with pytest.raises(
        errors.ConfigError,
        match='unknown relation kind "ManyToOne"; expected one of ForeignKey, OneToOne, '
        "OneToMany, ManyToMany",
    ):
        _chakra.register_model(
            Probe,
            "NameProbe",
            "name_probes",
            [pk],
            [{"name": "r", "kind": "ManyToOne", "target": "User"}],
        )
