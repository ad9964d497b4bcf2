"""``KeyboardInterrupt`` and ``SystemExit`` are never swallowed (issue 19, item 4): raised
inside the ``chakra.sql`` log call (Ctrl-C while a record is written), they reach the caller,
and an interrupted transaction rolls back, sync and async alike."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import chakra
import pytest
from models import Tag


class Interrupt(logging.Handler):
    """Raises ``exc`` while the first record whose SQL starts with ``INSERT`` is logged."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(logging.DEBUG)
        self.exc: BaseException | None = exc

    def emit(self, record: logging.LogRecord) -> None:
        if self.exc is not None and str(getattr(record, "sql", "")).startswith("INSERT"):
            exc, self.exc = self.exc, None
            raise exc


@pytest.fixture
def interrupting() -> object:
    log = logging.getLogger("chakra.sql")
    handlers: list[logging.Handler] = []
    old = log.level

    def install(exc: BaseException) -> None:
        h = Interrupt(exc)
        handlers.append(h)
        log.addHandler(h)
        log.setLevel(logging.DEBUG)

    yield install
    for h in handlers:
        log.removeHandler(h)
    log.setLevel(old)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_an_interrupt_while_logging_rolls_a_sync_transaction_back(
    db: object, interrupting: object, exc: type[BaseException]
) -> None:
    interrupting(exc())  # type: ignore[operator]
    with pytest.raises(exc):
        with chakra.SyncSession() as s:
            with s.begin_sync():
                s.add(Tag(name="a"))
                s.flush_sync()
                s.add(Tag(name="b"))
    assert Tag.objects.count_sync() == 0
    # The session is usable afterwards and nothing was lost of later work.
    with chakra.SyncSession() as s:
        with s.begin_sync():
            s.add(Tag(name="c"))
    assert [t.name for t in Tag.objects.all_sync()] == ["c"]


def test_an_interrupt_while_logging_a_sync_query_is_raised(
    db: object, interrupting: object
) -> None:
    interrupting(KeyboardInterrupt())  # type: ignore[operator]
    with pytest.raises(KeyboardInterrupt):
        Tag.objects.create_sync(name="a")
    assert Tag.objects.count_sync() == 1  # the statement ran; the interrupt was not lost


ASYNC_CHILD = """
import asyncio, logging, sys
sys.path.insert(0, sys.argv[2])
import chakra
from models import Tag
from test_interrupts import Interrupt

chakra.configure(sys.argv[1])
log = logging.getLogger("chakra.sql")
log.addHandler(Interrupt(KeyboardInterrupt()))
log.setLevel(logging.DEBUG)

async def work():
    async with chakra.Session() as s:
        async with s.begin():
            s.add(Tag(name="a"))
            await s.flush()
            s.add(Tag(name="b"))
            await asyncio.sleep(0.5)

try:
    asyncio.run(work())
    print("not interrupted")
except KeyboardInterrupt:
    print("interrupted")
log.setLevel(logging.WARNING)
print("tags", Tag.objects.count_sync())
"""


def test_an_interrupt_while_logging_rolls_an_async_transaction_back(db: object) -> None:
    """In an event loop the interrupt leaves ``asyncio.run`` (as Ctrl-C does), and the
    transaction it interrupted rolls back. In a child process: it stops the loop."""
    url = db.url  # type: ignore[attr-defined]
    chakra.close(url)
    out = subprocess.run(
        [sys.executable, "-c", ASYNC_CHILD, url, str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.splitlines() == ["interrupted", "tags 0"], (out.stdout, out.stderr)
