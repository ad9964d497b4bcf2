"""Case-insensitive lookups give one answer on SQLite and PostgreSQL for non-ASCII text:
the rule of ``docs/queries.md`` (each character lower-cased on its own by Unicode's simple
mapping, final sigma as sigma), computed here in plain Python and compared with both."""

from __future__ import annotations

from typing import Any

import chakra
import pytest
from django_data import MODELS, DjTag

WORDS = [
    "σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "Σίσυφοσ",
    "İstanbul",
    "istanbul",
    "\u0131stanbul",
    "ISTANBUL",
    "\u212aelvin",
    "kelvin",
    "KELVIN",
    "Straße",
    "STRASSE",
    "straße",
    "Émile",
    "émile",
    "EMILE",
    "100%_x",
]


def fold(s: str) -> str:
    """The documented rule: per character, the first character of its lower case."""
    return "".join(c.lower()[:1] or c for c in s).replace("\u03c2", "\u03c3")


@pytest.fixture
async def words(db: Any) -> list[str]:
    await chakra.create_tables(*MODELS)
    await DjTag.objects.bulk_create([DjTag(id=i, name=w) for i, w in enumerate(WORDS, 1)])
    return WORDS


@pytest.mark.parametrize(
    "arg", ["σίσυφος", "ΣΊΣΥΦΟΣ", "istanbul", "İSTANBUL", "KELVIN", "straße", "émile", "%_X"]
)
async def test_case_insensitive_lookups_follow_one_rule(words: list[str], arg: str) -> None:
    async def names(**kw: Any) -> list[str]:
        return sorted(t.name for t in await DjTag.objects.filter(**kw).all())

    a = fold(arg)
    assert await names(name__iexact=arg) == sorted(w for w in words if fold(w) == a)
    assert await names(name__icontains=arg[1:4]) == sorted(
        w for w in words if fold(arg[1:4]) in fold(w)
    )
    assert await names(name__istartswith=arg[:3]) == sorted(
        w for w in words if fold(w).startswith(fold(arg[:3]))
    )
    assert await names(name__iendswith=arg[-3:]) == sorted(
        w for w in words if fold(w).endswith(fold(arg[-3:]))
    )


async def test_lower_and_upper_follow_the_same_rule(words: list[str]) -> None:
    rows = await DjTag.objects.annotate(lo=chakra.Lower("name"), up=chakra.Upper("name")).all()
    for t in rows:
        assert t.lo == "".join(c.lower()[:1] or c for c in t.name)
        assert t.up == "".join(c.upper() if len(c.upper()) == 1 else c for c in t.name)
