"""Storage, one small contract per domain, each kept by Redis and by an embedded SQLite file.

Layout:
    base.py          StoreError, and `StoreContract`, which turns backend errors into it
    redis.py         the Redis backend all domains share: client, hash-tagged keys, script runs
    sqlite.py        the SQLite backend all domains share: the file, its one thread, transactions
    <domain>/        __init__.py: the contract and its records; redis.py, sqlite.py: its two stores
    stores.py        `Stores`, the bundle the app holds, and `open_stores(settings)`

Domains: sessions (history and expiry), counters (quotas), reminders, leads, turns (the event
buffers of running answers, for reattaching and Stop), chats (the AI SDK's chat ids bound to
sessions), usage (spend and budgets), secrets (what the service generates once for all replicas),
feedback (visitors' ratings of answers), answers (the owner's own answers to questions),
transcripts (the owner's copies of conversations, kept past their sessions), privacy (finding
and erasing everything about a visitor across the domains, and retention's deletions).

Adding a domain (say `usage`):
1. `store/usage/__init__.py`: its records and `class UsageStore(StoreContract)` with abstract,
   fully documented coroutines. Times are integer ms since the epoch.
2. `store/usage/redis.py`: `class RedisUsageStore(RedisPart, UsageStore)`. Keys carry a hash tag;
   per-session data uses `RedisBackend.session_key(session_id, "usage")` and, if it should go
   with a deleted session, `backend.keep_with_session("usage")`. Scripts via
   `self.client.register_script`; several in one round trip via `backend.run_scripts`.
3. `store/usage/sqlite.py`: `class SqliteUsageStore(SqlitePart, UsageStore)`: its own `SCHEMA`
   (`CREATE ... IF NOT EXISTS`, given to `backend.add_schema` in `__init__`), SQL run with
   `backend.read(fn)` / `backend.write(fn)` (one IMMEDIATE transaction on the store's thread);
   `backend.keep_with_session(table)` and `backend.add_sweep(fn)` as needed.
4. Register it in stores.py: a `usage: UsageStore` field on `Stores` and one line in `_on_redis`
   and `_on_sqlite`. Nothing else changes: both backends raise only StoreError, by construction.
5. tests/store/test_usage.py: the contract suite, through the `stores` fixture (SQLite, Redis and
   Redis Cluster); no key or table names in tests.
"""

from __future__ import annotations

from .answers import ANSWERS_KEPT, OwnerAnswer, OwnerAnswerStore
from .base import StoreContract, StoreError
from .chats import ChatStore
from .counters import CounterCheck, CounterState, CounterStore
from .feedback import FEEDBACK_KEPT, Feedback, FeedbackStore
from .leads import LEADS_KEPT, Lead, LeadStore
from .reminders import REMINDERS_KEPT_MS, Reminder, ReminderStore
from .sessions import Message, SessionMeta, SessionRecord, SessionStore
from .stores import Stores, open_stores  # at import time: an import inside the running event loop blocks it
from .transcripts import Transcript, TranscriptMeta, TranscriptStore
from .turn_buffers import TurnAppend, TurnBufferStore, TurnControl, TurnPage

__all__ = [
    "ANSWERS_KEPT",
    "FEEDBACK_KEPT",
    "LEADS_KEPT",
    "REMINDERS_KEPT_MS",
    "ChatStore",
    "CounterCheck",
    "CounterState",
    "CounterStore",
    "Feedback",
    "FeedbackStore",
    "Lead",
    "LeadStore",
    "Message",
    "OwnerAnswer",
    "OwnerAnswerStore",
    "Reminder",
    "ReminderStore",
    "SessionMeta",
    "SessionRecord",
    "SessionStore",
    "StoreContract",
    "StoreError",
    "Stores",
    "Transcript",
    "TranscriptMeta",
    "TranscriptStore",
    "TurnAppend",
    "TurnBufferStore",
    "TurnControl",
    "TurnPage",
    "open_stores",
]
