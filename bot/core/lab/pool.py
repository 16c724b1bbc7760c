"""The class's pool: which class a person works in, the lab's chapter, and the preference pairs.

A class is one server or workspace (the console is one class): everything a student writes,
ranks or flags is kept under its `scope` (`platform:guild`, the key memberships use), and the
reward model, the leaderboard, the flags an instructor reviews and the export are the class's
own. A direct message belongs to no class, so the lab is used in a server's or workspace's channel.

Pairs are the reward model's data: a ranking of k candidates yields k(k−1)/2 pairs, a live lab
vote one. A pair whose response is a classmate's demonstration leaves the model and the export
while that demonstration is flagged (and goes for good when it is removed or its author
forgets themselves).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from ..content import Chapter
from ..context import CoreContext
from ..refusal import Refusal
from ..users import Actor, find_user
from .reward_model import Comparison

#: Said in a direct message, where no class is known.
NO_CLASS = "The lab belongs to a class: use `/lab` in a channel of your server or workspace, so your work joins your classmates'."
#: Pairs whose demonstration (if any) is in the pool: the SQL every reader of the class's pairs shares.
_USABLE = ("FROM lab_pairs p"
           " LEFT JOIN lab_demonstrations cd ON cd.id = p.chosen_demo"
           " LEFT JOIN lab_demonstrations rd ON rd.id = p.rejected_demo"
           " WHERE p.scope = ? AND (cd.id IS NULL OR cd.status = 'pool') AND (rd.id IS NULL OR rd.status = 'pool')")


def scope_of(actor: Actor) -> str:
    """The class `actor` works in (`platform:guild`); a refusal in a direct message."""
    if actor.membership is None:
        raise Refusal(NO_CLASS)
    return actor.membership


def lab_chapter(ctx: CoreContext) -> Chapter:
    """The chapter whose lab runs: the first with lab content (chapter 7's RLHF lesson)."""
    chapter = next((c for c in ctx.course.chapters if c.lab.instructions or c.lab.prompts), None)
    if chapter is None:
        raise Refusal("This course has no lab content yet (a chapter's `lab.yaml`, see README *Writing content*).")
    return chapter


@dataclass(frozen=True)
class Ranked:
    """A response as it was ranked: its text, and the demonstration it is (if it is one)."""

    text: str
    demonstration: int | None = None


def insert_pairs(conn: sqlite3.Connection, scope: str, user_pk: int, prompt: str, best_first: Sequence[Ranked], created_at: str,
                 *, ranking_id: int | None = None, session_id: int | None = None) -> int:
    """Every pair a ranking (best first) yields, k(k−1)/2 of them; how many were written."""
    count = 0
    for i, chosen in enumerate(best_first):
        for rejected in best_first[i + 1:]:
            conn.execute(
                "INSERT INTO lab_pairs(scope, user_pk, ranking_id, session_id, prompt, chosen, rejected, chosen_demo, rejected_demo, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (scope, user_pk, ranking_id, session_id, prompt, chosen.text, rejected.text, chosen.demonstration, rejected.demonstration,
                 created_at))
            count += 1
    return count


def comparisons(conn: sqlite3.Connection, scope: str) -> list[Comparison]:
    """The class's usable pairs as the reward model reads them (the rater is an opaque user number)."""
    rows = conn.execute(f"SELECT p.prompt, p.chosen, p.rejected, p.user_pk {_USABLE} ORDER BY p.id", (scope,)).fetchall()
    return [Comparison(prompt, chosen, rejected, str(user_pk)) for prompt, chosen, rejected, user_pk in rows]


def lab_scopes(conn: sqlite3.Connection, actor: Actor) -> list[str]:
    """The classes whose pairs hold something of `actor`'s (their rankings, votes, demonstrations)."""
    user = find_user(conn, actor.platform, actor.user_id)
    if user is None:
        return []
    rows = conn.execute("SELECT scope FROM lab_pairs WHERE user_pk = ? UNION SELECT scope FROM lab_demonstrations WHERE user_pk = ?",
                        (user["id"], user["id"])).fetchall()
    return sorted(row[0] for row in rows)


def fingerprint(conn: sqlite3.Connection, scope: str) -> tuple[int, int]:
    """(how many, the newest) of the class's usable pairs: it changes with every ranking, vote,
    flag, review or forget-me, in whichever process sharing the database made it."""
    row = conn.execute(f"SELECT COUNT(*), MAX(p.id) {_USABLE}", (scope,)).fetchone()
    return row[0], row[1] or 0


def preference_rows(conn: sqlite3.Connection, scope: str) -> list[sqlite3.Row]:
    """The class's usable pairs with their dates, for the export."""
    return conn.execute(f"SELECT p.prompt, p.chosen, p.rejected, p.user_pk, p.created_at {_USABLE} ORDER BY p.id", (scope,)).fetchall()
