"""Group commit: the live answers that arrive together are written by one transaction.

When a live question opens, a whole class presses a button in the same second. Written one
transaction each, every answer pays for its own trip to the database (a hop to the store's
thread and back to the event loop, BEGIN, COMMIT and its write to the log); written together,
the class pays that once per batch. `AnswerBatch.run(fn, *args)` is called like
`store.run(fn, *args)` and returns (or raises) what `fn` returns (or raises) for that caller
alone, but `fn` runs inside a transaction shared with the answers around it:

- A batch is what has arrived by the time the database can take it: the answers of the same
  tick of the event loop, plus those that came while the batches before it were being written
  (`IN_FLIGHT` at a time. SQLite: two, one on the database thread and the next queued behind
  it, so the thread never waits for a busy event loop to hand it the next batch. PostgreSQL:
  several, each on a connection of its own, so one batch's round trips overlap another's).
  A lone answer waits for nobody (latency as before), and under a burst the batches grow by
  themselves, up to `MAX_BATCH`.
- Batches run at READ COMMITTED (`ISOLATION`). As SERIALIZABLE transactions, two batches of the
  same question's answers, inserting side by side into the same index pages, failed each other
  (PostgreSQL's predicate locks see each one's insert as a conflict with the other's check for a
  duplicate), so only one could be in flight. The functions given to `run` are written for it:
  "already answered" is decided by `INSERT … ON CONFLICT DO NOTHING` itself, not a read before
  it, and a row relied on as read (the session, open) is locked with `Store.share_lock`.
- A refusal (`Refusal`: too late, already answered, an unreadable answer) is raised to its
  caller only; the others in the batch commit. An answer refused before it wrote anything (the
  usual refusal: "already answered" is an insert that wrote nothing) leaves nothing to undo, so
  a batch is first written without savepoints, which would cost two statements per answer (a
  round trip each on PostgreSQL). When an answer is refused after writing something (a newcomer's
  user row, then an unreadable answer), that attempt is rolled back and the batch written again
  with each answer inside a savepoint, so the refusal rolls back that answer's own writes only.
- A row an answer locks as it reads it (`Store.share_lock`: the session, which stays open until
  the batch commits) is read once per batch: nobody else can change it meanwhile, and answers
  never change what they lock, so the next answers get the rows the first one read.
- Anything else an answer raises (a constraint, a bug) fails the whole transaction: then every
  answer of the batch is run again in a transaction of its own, so the one that fails fails
  alone, with its own error, and no other answer is lost. A storage fault (`StoreError`: busy,
  disk failed) is the database's, not an answer's: it is raised to every caller of the batch,
  as one transaction each would have raised it.

Savepoints and one transaction per batch are plain SQL on both SQLite and PostgreSQL, through
`store.run` like every other operation, so the batching works unchanged on either engine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .refusal import Refusal
from .store import Store, StoreError

log = logging.getLogger(__name__)

#: The most answers one transaction writes: a larger burst is written as several batches, so no
#: single transaction keeps other operations (a lesson page, the live clock) waiting for long.
MAX_BATCH = 256
#: Batches handed to the store at a time, by engine (`Store.engine`; 1 for any other): on SQLite
#: the next is queued behind the one being written; on PostgreSQL each is written on a connection
#: of its own (the pool has `PostgresStore.POOL_SIZE`; the rest stay for other operations).
IN_FLIGHT = {"sqlite": 2, "postgresql": 3}
#: The isolation of every batch (`Store.run`): see the module's docstring.
ISOLATION = "read committed"


@dataclass
class _Call:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    future: asyncio.Future


@dataclass(frozen=True)
class _Outcome:
    """What one answer's function did inside the shared transaction."""

    value: Any = None
    refusal: Refusal | None = None


class AnswerBatch:
    def __init__(self, store: Store):
        self._store = store
        self._in_flight = IN_FLIGHT.get(store.engine, 1)
        self._waiting: list[_Call] = []
        #: The batches being written: answers arriving meanwhile wait for the next one.
        self._writing: set[asyncio.Task] = set()
        self._scheduled = False
        #: Transactions written so far (batches, and answers run again alone): for tests and benchmarks.
        self.transactions = 0

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(conn, *args)` inside the next batch's transaction; its result or exception."""
        loop = asyncio.get_running_loop()
        call = _Call(fn, args, loop.create_future())
        self._waiting.append(call)
        if len(self._writing) < self._in_flight and not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)  # after the rest of this tick's answers have arrived
        return await call.future

    def _start(self) -> None:
        self._scheduled = False
        while len(self._writing) < self._in_flight and self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            task = asyncio.ensure_future(self._write(batch))
            self._writing.add(task)
            task.add_done_callback(self._written)

    def _written(self, task: asyncio.Task) -> None:
        self._writing.discard(task)
        self._start()  # what arrived while the batches were written

    async def _write(self, batch: list[_Call]) -> None:
        calls = [(c.fn, c.args) for c in batch]
        try:
            try:
                self.transactions += 1
                outcomes = await self._store.run(_each_answer, calls, self._store.share_lock, False, isolation=ISOLATION)
            except _RefusedAfterWriting:  # undone with the whole attempt: again, each answer in a savepoint
                self.transactions += 1
                outcomes = await self._store.run(_each_answer, calls, self._store.share_lock, True, isolation=ISOLATION)
        except StoreError as exc:  # the database's fault, not an answer's: everyone hears it
            for call in batch:
                _settle(call, error=exc)
            return
        except Exception as exc:  # one answer broke the transaction: each again on its own, so it fails alone
            if len(batch) == 1:
                _settle(batch[0], error=exc)
                return
            log.warning("a batch of %d answers failed; writing each on its own", len(batch), exc_info=True)
            for call in batch:
                await self._alone(call)
            return
        for call, outcome in zip(batch, outcomes, strict=True):
            _settle(call, value=outcome.value, error=outcome.refusal)

    async def _alone(self, call: _Call) -> None:
        """One answer in a transaction of its own (after its batch failed as a whole)."""
        try:
            self.transactions += 1
            value = await self._store.run(call.fn, *call.args, isolation=ISOLATION)
        except Exception as exc:
            _settle(call, error=exc)
        else:
            _settle(call, value=value)


def _settle(call: _Call, value: Any = None, error: BaseException | None = None) -> None:
    if call.future.done():  # the caller stopped waiting (cancelled): the answer is written all the same
        return
    if error is not None:
        call.future.set_exception(error)
    else:
        call.future.set_result(value)


class _RefusedAfterWriting(Exception):
    """An answer was refused after it wrote something, in a batch written without savepoints."""


class _Rows:
    """A result read once per batch (`_AnswerConnection`), as a cursor of its own for each answer."""

    def __init__(self, rows: list[Any]):
        self._rows = rows
        self._next = 0
        self.rowcount = len(rows)

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class _AnswerConnection:
    """The batch's connection as its answers use it (`execute`, `executemany`): it notes whether
    the current answer wrote anything, and reads what is locked with `lock` once per batch."""

    def __init__(self, conn: Any, lock: str):
        self._conn = conn
        self._lock = lock
        self._held: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}
        #: The answer under way wrote something (a statement other than a SELECT changed rows).
        self.wrote = False

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._lock and sql.endswith(self._lock):
            key = (sql, tuple(params))
            if key not in self._held:
                self._held[key] = self._conn.execute(sql, params).fetchall()
            return _Rows(self._held[key])
        cursor = self._conn.execute(sql, params)
        if cursor.rowcount != 0 and sql.lstrip()[:6].upper() != "SELECT":  # -1 (unknown) counts as written
            self.wrote = True
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        self.wrote = True
        return self._conn.executemany(sql, rows)

    def forget_locks(self) -> None:
        """A savepoint was rolled back: the locks taken since went with it, so read those rows again."""
        self._held.clear()


def _each_answer(conn: Any, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]], lock: str,
                 savepoints: bool) -> list[_Outcome]:
    """On the database, inside the batch's transaction: each call, and what it returned or the
    refusal it raised. With `savepoints`, each between SAVEPOINT and RELEASE, a refusal rolling
    back that call's writes only; without, a refusal after a write raises `_RefusedAfterWriting`
    (the transaction is rolled back, and the batch written again with savepoints). Any other
    exception ends the whole transaction."""
    answering = _AnswerConnection(conn, lock)
    outcomes = []
    for fn, args in calls:
        if savepoints:
            conn.execute("SAVEPOINT answer")
        answering.wrote = False
        try:
            value = fn(answering, *args)
        except Refusal as refusal:
            if savepoints:
                conn.execute("ROLLBACK TO SAVEPOINT answer")
                conn.execute("RELEASE SAVEPOINT answer")
                answering.forget_locks()
            elif answering.wrote:
                raise _RefusedAfterWriting from refusal
            outcomes.append(_Outcome(refusal=refusal))
            continue
        if savepoints:
            conn.execute("RELEASE SAVEPOINT answer")
        outcomes.append(_Outcome(value=value))
    return outcomes
