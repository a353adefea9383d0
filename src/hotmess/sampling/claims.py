"""Work claims in the run store, so that several processes on one machine share a run instead of repeating it.

A *unit* of work is one prompt: (run, model, task, question, context, budget). Before a worker sends a unit's
request it claims the unit in the store's ``claims`` table, in one ``BEGIN IMMEDIATE`` transaction; another
worker skips units claimed by someone alive. A claim is alive while its owner renews it (a heartbeat every
few seconds extends ``expires_at``); the claims of a process that died on this host are taken over at once
(its pid is gone), those of a process that stopped renewing them once they expire. A worker's claims are
dropped when it ends. The workers must run on one host: the store's WAL journal needs shared memory, which a
network file system does not give. Samples stay exactly once whatever happens (the samples table's primary
key sees to that); claims only keep two workers from paying for the same request.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["ClaimBoard", "UnitKey", "missing_indices"]

_DDL = """
CREATE TABLE IF NOT EXISTS claims (
  run_id TEXT NOT NULL,
  model TEXT NOT NULL,
  task TEXT NOT NULL,
  question_id TEXT NOT NULL,
  context_id INTEGER NOT NULL,
  budget TEXT NOT NULL,
  owner TEXT NOT NULL,
  expires_at REAL NOT NULL,
  PRIMARY KEY (run_id, model, task, question_id, context_id, budget)
) WITHOUT ROWID;
"""


@dataclass(frozen=True)
class UnitKey:
    """The store key of one unit of work (a prompt whose samples are sampled together)."""

    run_id: str
    model: str
    task: str
    question_id: str
    context_id: int
    budget: str

    def row(self) -> tuple[str, str, str, str, int, str]:
        """The key as the claims table's primary-key tuple."""
        return (self.run_id, self.model, self.task, self.question_id, self.context_id, self.budget)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class ClaimBoard:
    """Claims of one worker in a run store's SQLite connection.

    Parameters
    ----------
    conn
        The store's connection (the board creates its table if missing).
    lease_s
        How long a claim lives without a heartbeat; :meth:`heartbeat` should run every ``lease_s / 4``.

    Examples
    --------
    >>> import sqlite3
    >>> conn = sqlite3.connect(":memory:")
    >>> a, b = ClaimBoard(conn), ClaimBoard(conn)
    >>> key = UnitKey("r", "m", "t", "q1", 0, "")
    >>> a.claim(key), b.claim(key), a.claim(key)
    (True, False, True)
    >>> a.release_all(); b.claim(key)
    True
    """

    def __init__(self, conn: sqlite3.Connection, *, lease_s: float = 60.0) -> None:
        self.conn = conn
        self.lease_s = lease_s
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.owner = f"{self.host}:{self.pid}:{uuid.uuid4().hex[:8]}"
        with conn:
            conn.executescript(_DDL)

    def _stale(self, owner: str, expires_at: float, now: float) -> bool:
        if expires_at < now:
            return True
        host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        return host == self.host and pid_text.isdigit() and int(pid_text) != self.pid and not _pid_alive(int(pid_text))

    def claim(self, key: UnitKey) -> bool:
        """Claim ``key`` for this worker; False when another live worker holds it."""
        now = time.time()
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute(
                "SELECT owner, expires_at FROM claims WHERE run_id=? AND model=? AND task=? AND question_id=? "
                "AND context_id=? AND budget=?",
                key.row(),
            ).fetchone()
            if row is not None and row[0] != self.owner and not self._stale(row[0], float(row[1]), now):
                conn.execute("COMMIT")
                return False
            conn.execute(
                "INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (*key.row(), self.owner, now + self.lease_s),
            )
            conn.execute("COMMIT")
            return True
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def heartbeat(self) -> None:
        """Extend every claim of this worker by one lease."""
        with self.conn:
            self.conn.execute("UPDATE claims SET expires_at=? WHERE owner=?", (time.time() + self.lease_s, self.owner))

    def release_all(self) -> None:
        """Drop this worker's claims (at the end of its run, after its samples are written)."""
        with self.conn:
            self.conn.execute("DELETE FROM claims WHERE owner=?", (self.owner,))


def missing_indices(
    conn: sqlite3.Connection, key: UnitKey, wanted: Sequence[int], *, errors_count: bool = False
) -> tuple[int, ...]:
    """The sample indices of ``wanted`` that the store does not hold yet.

    Error rows count as missing (a worker that takes the unit retries them), unless ``errors_count``: then a
    unit whose every sample has a row, good or failed, is settled (what a worker waiting on another's unit
    needs to know; a failed unit is retried by the next run, not by a waiting worker, which would otherwise
    wait for ever on a unit that the other worker has finished with errors).
    """
    sql = (
        "SELECT sample_index FROM samples WHERE run_id=? AND model=? AND task=? AND question_id=? "
        "AND context_id=? AND budget=?"
    )
    if not errors_count:
        sql += " AND error IS NULL"
    done = {r[0] for r in conn.execute(sql, key.row())}
    return tuple(i for i in wanted if i not in done)
