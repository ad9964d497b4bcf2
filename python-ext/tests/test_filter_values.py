"""Filter values refused before SQL with the same rules on both backends (issue 19, item 5):
NUL in filter text (SQLite would cut a LIKE pattern at the NUL: ``iexact="ADMIN\\0x"`` matched
``admin`` and ``contains="\\0"`` every row), and regular expressions outside the syntax both
backends read alike (an invalid one matched nothing on SQLite and failed on PostgreSQL)."""

from __future__ import annotations

import logging
import re

import pytest
from chakra import errors
from models import Thing

NUL_FILTERS = [
    {"name__iexact": "ADMIN\0x"},
    {"name__contains": "\0"},
    {"name__icontains": "\0"},
    {"name__startswith": "adm\0"},
    {"name__endswith": "\0in"},
    {"name": "admin\0"},
    {"name__in": ["x", "admin\0"]},
    {"name__gt": "a\0"},
    {"name__regex": "adm\0"},
    {"data__contains": {"k": "\0"}},
    {"tags__contains": ["\0"]},
]


@pytest.mark.parametrize("kwargs", NUL_FILTERS, ids=[next(iter(k)) for k in NUL_FILTERS])
async def test_nul_in_a_filter_value_is_refused(
    db: object, kwargs: dict[str, object], caplog: pytest.LogCaptureFixture
) -> None:
    mysql = db.backend == "mysql"  # type: ignore[attr-defined]
    # MySQL has no arrays (refused by name, docs/mysql.md): its row has no tags.
    await Thing.objects.create(name="admin", data={"k": "v"}, tags=None if mysql else ["a"])
    with caplog.at_level(logging.DEBUG, logger="chakra.sql"):
        caplog.clear()
        if mysql and "__contains" in next(iter(kwargs)) and "name" not in next(iter(kwargs)):
            # JSON and array containment are refused by name on MySQL, before any SQL.
            with pytest.raises(errors.InvalidQuery, match="MySQL"):
                await Thing.objects.filter(**kwargs).count()
        else:
            with pytest.raises(errors.BadValue) as e:
                await Thing.objects.filter(**kwargs).count()
            assert "NUL" in str(e.value), e.value
            with pytest.raises(errors.BadValue):
                await Thing.objects.exclude(**kwargs).count()
        assert [r for r in caplog.records if r.name == "chakra.sql"] == [], "no SQL ran"


NAMES = ["admin", "Admin", "bob", "a.b", "word here", "x1", "x22", "", "ümlaut"]


@pytest.mark.parametrize(
    "pattern", ["^a", "^[ab]", "(?i)^a", "x[0-9]+$", r"\d{2}$", "^$", r"a\.b", "ü|o"]
)
async def test_valid_regexes_match_as_python_does(db: object, pattern: str) -> None:
    for n in NAMES:
        await Thing.objects.create(name=n)
    want = sorted(n for n in NAMES if re.search(pattern, n))
    got = sorted(t.name for t in await Thing.objects.filter(name__regex=pattern))
    assert got == want
    want_i = sorted(n for n in NAMES if re.search(pattern, n, re.IGNORECASE))
    got_i = sorted(t.name for t in await Thing.objects.filter(name__iregex=pattern))
    assert got_i == want_i


@pytest.mark.parametrize(
    "pattern", ["(", "a{2", "[z-a]", r"\1", r"\bword", r"\p{L}", "(?P<x>a)", "a(?i)b", "a\\"]
)
async def test_invalid_or_unshared_regexes_are_refused_on_both(
    db: object, pattern: str, caplog: pytest.LogCaptureFixture
) -> None:
    await Thing.objects.create(name="word")
    with caplog.at_level(logging.DEBUG, logger="chakra.sql"):
        caplog.clear()
        with pytest.raises(errors.InvalidQuery) as e:
            await Thing.objects.filter(name__regex=pattern).count()
        assert "regular expression" in str(e.value) and "name" in str(e.value), e.value
        assert [r for r in caplog.records if r.name == "chakra.sql"] == [], "no SQL ran"
