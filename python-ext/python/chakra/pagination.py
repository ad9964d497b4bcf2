"""``Paginator``: Django's paginator over a queryset, async with ``_sync`` twins.

A page costs at most two statements: the count (read once per paginator, as Django caches
it) and the page's rows. ``next_page(page)`` reads the following page by keyset (``WHERE
(ordering) > (the last row's values)``, no ``OFFSET`` scan) when the queryset is ordered by
fields that cannot be NULL; otherwise, and for ``page(n)``, rows are read with
``LIMIT``/``OFFSET``. The primary key is added to the ordering as a tie-breaker, so pages
never overlap or skip rows that tie.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from . import _bridge, errors
from ._bridge import Steps
from .expressions import Q

if TYPE_CHECKING:
    from .query import BaseQuerySet

R = TypeVar("R")
"""A row as the queryset reads it (the model, or a dict / tuple after ``values()``)."""

__all__ = ["EmptyPage", "InvalidPage", "Page", "PageNotAnInteger", "Paginator"]


class InvalidPage(errors.ChakraError):
    """A page number that is not a page of this paginator."""


class PageNotAnInteger(InvalidPage):
    """A page number that is not a whole number (Django's name)."""


class EmptyPage(InvalidPage):
    """A page number past the last page, or below 1 (Django's name)."""


class Page(Sequence[R], Generic[R]):
    """One page: a sequence of its rows, with its number and neighbours, as Django's."""

    def __init__(self, object_list: list[R], number: int, paginator: Paginator[R]) -> None:
        self.object_list = object_list
        self.number = number
        self.paginator = paginator

    def __len__(self) -> int:
        return len(self.object_list)

    @overload
    def __getitem__(self, i: int) -> R: ...
    @overload
    def __getitem__(self, i: slice) -> list[R]: ...
    def __getitem__(self, i: int | slice) -> R | list[R]:
        return self.object_list[i]

    def __iter__(self) -> Iterator[R]:
        return iter(self.object_list)

    def __repr__(self) -> str:
        return f"<Page {self.number} of {self.paginator.num_pages}>"

    def has_next(self) -> bool:
        """Whether a page follows."""
        return self.number < self.paginator.num_pages

    def has_previous(self) -> bool:
        """Whether a page comes before."""
        return self.number > 1

    def has_other_pages(self) -> bool:
        """Whether there is more than this page."""
        return self.has_previous() or self.has_next()

    def next_page_number(self) -> int:
        """The next page's number; ``EmptyPage`` on the last page."""
        return self.paginator.validate_number(self.number + 1)

    def previous_page_number(self) -> int:
        """The previous page's number; ``EmptyPage`` on the first page."""
        return self.paginator.validate_number(self.number - 1)

    def start_index(self) -> int:
        """The 1-based index of the page's first row (0 when there are no rows)."""
        if self.paginator.count == 0:
            return 0
        return (self.paginator.per_page * (self.number - 1)) + 1

    def end_index(self) -> int:
        """The 1-based index of the page's last row."""
        if self.number == self.paginator.num_pages:
            return self.paginator.count
        return self.number * self.paginator.per_page


class Paginator(Generic[R]):
    """Splits a queryset into pages of ``per_page`` rows, as Django's ``Paginator``
    (``orphans``: a last page this small joins the one before; ``allow_empty_first_page``:
    whether no rows still make one empty page)."""

    def __init__(
        self,
        queryset: BaseQuerySet[Any, R],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> None:
        if not isinstance(per_page, int) or per_page < 1:
            raise errors.InvalidQuery(f"Paginator needs per_page >= 1, got {per_page!r}")
        if orphans < 0:
            raise errors.InvalidQuery(f"Paginator needs orphans >= 0, got {orphans!r}")
        qs = queryset
        if qs._q.limit_value is not None or qs._q.offset_value is not None:
            raise errors.InvalidQuery("Paginator takes an unsliced queryset: it slices it itself")
        pk = qs.model.__chakra__.pk_name()
        ordering = list(qs._ordering)
        if pk is not None and not any(o.lstrip("-") in (pk, "pk") for o in ordering):
            ordering.append(pk)
            qs = qs.order_by(*ordering)
        self.queryset = qs
        self.per_page = per_page
        self.orphans = orphans
        self.allow_empty_first_page = allow_empty_first_page
        self._count: int | None = None
        self._keyset = self._keyset_fields(qs, ordering)

    @staticmethod
    def _keyset_fields(
        qs: BaseQuerySet[Any, R], ordering: list[str]
    ) -> list[tuple[str, bool]] | None:
        """``(field, descending)`` of the ordering when every field is the model's own and
        cannot be NULL (then a keyset reads the next page); else ``None``."""
        if qs._mode != "models":
            return None
        fields = qs.model._fields
        out = []
        for spec in ordering:
            name = spec.lstrip("-")
            f = fields.get(name)
            if f is None or (f.nullable and not f.primary_key):
                return None
            out.append((name, spec.startswith("-")))
        return out

    # -- counting -------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """The number of rows (known after the first page or :meth:`acount`)."""
        if self._count is None:
            raise errors.InvalidQuery(
                "Paginator.count is read by the first page: await paginator.acount() "
                "(or paginator.count_sync()) first"
            )
        return self._count

    @property
    def num_pages(self) -> int:
        """The number of pages (known after the first page or :meth:`acount`)."""
        count = self.count
        if count == 0 and not self.allow_empty_first_page:
            return 0
        hits = max(1, count - self.orphans)
        return math.ceil(hits / self.per_page)

    @property
    def page_range(self) -> range:
        """``range(1, num_pages + 1)``."""
        return range(1, self.num_pages + 1)

    def _count_steps(self) -> Steps[int]:
        if self._count is None:
            self._count = yield from self.queryset._count_steps()
        return self._count

    async def acount(self) -> int:
        """The number of rows (one ``COUNT``, then remembered)."""
        return await _bridge.drive(self._count_steps())

    def count_sync(self) -> int:
        """Synchronous :meth:`acount`."""
        return _bridge.drive_sync(self._count_steps())

    def validate_number(self, number: Any) -> int:
        """``number`` as a page number of this paginator, else ``PageNotAnInteger`` /
        ``EmptyPage`` (Django's rules: a whole number from 1 to ``num_pages``; page 1
        always exists when empty first pages are allowed)."""
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            n = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(f"page number {number!r} is not an integer") from None
        if n < 1:
            raise EmptyPage(f"page number {n} is less than 1")
        if n > self.num_pages and not (n == 1 and self.allow_empty_first_page):
            raise EmptyPage(f"page {n} contains no results (there are {self.num_pages})")
        return n

    def _bounds(self, number: int) -> tuple[int, int]:
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return bottom, top

    # -- pages ----------------------------------------------------------------------------

    def _page_steps(self, number: Any) -> Steps[Page[R]]:
        yield from self._count_steps()
        n = self.validate_number(number)
        bottom, top = self._bounds(n)
        rows: list[R] = []
        if top > bottom:
            rows = yield from self.queryset[bottom:top]._all_steps()
        return Page(rows, n, self)

    def _next_page_steps(self, page: Page[R]) -> Steps[Page[R]]:
        if page.paginator is not self:
            raise errors.InvalidQuery("next_page() takes a page of this paginator")
        n = self.validate_number(page.number + 1)
        if self._keyset is None or not page.object_list:
            return (yield from self._page_steps(n))
        bottom, top = self._bounds(n)
        last = page.object_list[-1]
        after = self._after(last)
        rows: list[R] = yield from self.queryset.filter(after).limit(top - bottom)._all_steps()
        return Page(rows, n, self)

    def _after(self, row: Any) -> Q:
        """The rows after ``row`` in the ordering: ``(a > va) | (a = va & b > vb) | …``
        with ``<`` for descending fields."""
        assert self._keyset is not None
        branches: list[Q] = []
        equal: dict[str, Any] = {}
        for name, desc in self._keyset:
            value = getattr(row, name)
            branches.append(Q(**equal, **{f"{name}__{'lt' if desc else 'gt'}": value}))
            equal[name] = value
        out = branches[0]
        for b in branches[1:]:
            out = out | b
        return out

    async def page(self, number: Any) -> Page[R]:
        """Page ``number`` (1-based): its rows by ``LIMIT``/``OFFSET``, and the count the
        first time."""
        return await _bridge.drive(self._page_steps(number))

    def page_sync(self, number: Any) -> Page[R]:
        """Synchronous :meth:`page`."""
        return _bridge.drive_sync(self._page_steps(number))

    async def next_page(self, page: Page[R]) -> Page[R]:
        """The page after ``page``, read by keyset after its last row when the ordering
        allows (no ``OFFSET`` scan), else as :meth:`page`; ``EmptyPage`` after the last."""
        return await _bridge.drive(self._next_page_steps(page))

    def next_page_sync(self, page: Page[R]) -> Page[R]:
        """Synchronous :meth:`next_page`."""
        return _bridge.drive_sync(self._next_page_steps(page))
