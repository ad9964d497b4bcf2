"""``first()``, ``last()`` and ``get()`` after ``values()`` / ``values_list()`` return the
row in the values' shape (dict, tuple, flat value), as Django does; they used to return model
instances. ``last()`` on a sliced queryset is refused, as in Django, instead of reversing the
order under the slice. Expected values are computed from the rows inserted, in Python."""

from __future__ import annotations

from typing import Any

import chakra
import pytest
from models import User

ROWS = [("bo", "b@x", 30), ("al", "a@x", 10), ("cy", "a@x", 20), ("di", "d@x", 10)]


async def _fill() -> None:
    await User.objects.bulk_create([User(username=u, email=e, balance=b) for u, e, b in ROWS])


async def test_first_last_and_get_keep_the_values_shape(db: Any) -> None:
    await _fill()
    by_id = list(enumerate(ROWS, start=1))
    assert await User.objects.values("username").first() == {"username": by_id[0][1][0]}
    assert await User.objects.values_list("username", flat=True).last() == by_id[-1][1][0]
    ordered = sorted(by_id, key=lambda r: (r[1][2], r[0]))
    assert await User.objects.order_by("balance", "id").values_list("id", "username").first() == (
        ordered[0][0],
        ordered[0][1][0],
    )
    assert (
        await User.objects.order_by("balance", "id").values_list("username", flat=True).last()
        == (ordered[-1][1][0])
    )
    assert await User.objects.values("username", "balance").get(username="cy") == {
        "username": "cy",
        "balance": 20,
    }
    assert User.objects.values_list("balance", flat=True).get_sync(username="di") == 10
    assert await User.objects.filter(balance__gt=100).values("id").first() is None
    assert await User.objects.values("id")[:0].first() is None


async def test_values_get_raises_the_models_errors(db: Any) -> None:
    await _fill()
    with pytest.raises(
        User.DoesNotExist, match=r"User matching query does not exist \(username='zz'\)"
    ):
        await User.objects.values("id").get(username="zz")
    with pytest.raises(User.MultipleObjectsReturned, match="it returned 2") as e:
        await User.objects.values_list("id", flat=True).get(email="a@x")
    assert e.value.count == 2
    # A slice bounds what get() sees, as in Django.
    assert await User.objects.order_by("id").values_list("username", flat=True)[1:2].get() == "al"


async def test_last_on_a_slice_is_refused(db: Any) -> None:
    await _fill()
    with pytest.raises(chakra.errors.InvalidQuery, match="sliced"):
        await User.objects.order_by("id")[1:3].last()
    with pytest.raises(chakra.errors.InvalidQuery, match="sliced"):
        User.objects.values("id")[:2].last_sync()
    assert (await User.objects.order_by("id")[1:3].first()).username == ROWS[1][0]  # type: ignore[union-attr]
