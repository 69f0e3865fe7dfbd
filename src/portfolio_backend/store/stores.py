"""The one place domains are registered: the `Stores` bundle and how each backend fills it."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from .answers import OwnerAnswerStore
from .answers.redis import RedisOwnerAnswerStore
from .answers.sqlite import SqliteOwnerAnswerStore
from .base import Backend
from .chats import ChatStore
from .chats.redis import RedisChatStore
from .chats.sqlite import SqliteChatStore
from .counters import CounterStore
from .counters.redis import RedisCounterStore
from .counters.sqlite import SqliteCounterStore
from .feedback import FeedbackStore
from .feedback.redis import RedisFeedbackStore
from .feedback.sqlite import SqliteFeedbackStore
from .leads import LeadStore
from .leads.redis import RedisLeadStore
from .leads.sqlite import SqliteLeadStore
from .privacy import PrivacyStore
from .privacy.redis import RedisPrivacyStore
from .privacy.sqlite import SqlitePrivacyStore
from .redis import RedisBackend
from .reminders import ReminderStore
from .reminders.redis import RedisReminderStore
from .reminders.sqlite import SqliteReminderStore
from .secrets import SecretStore
from .secrets.redis import RedisSecretStore
from .secrets.sqlite import SqliteSecretStore
from .sessions import SessionStore
from .sessions.redis import RedisSessionStore
from .sessions.sqlite import SqliteSessionStore
from .sqlite import SqliteBackend
from .transcripts import TranscriptStore
from .transcripts.redis import RedisTranscriptStore
from .transcripts.sqlite import SqliteTranscriptStore
from .turn_buffers import TurnBufferStore
from .turn_buffers.redis import RedisTurnBufferStore
from .turn_buffers.sqlite import SqliteTurnBufferStore
from .usage import UsageStore
from .usage.redis import RedisUsageStore
from .usage.sqlite import SqliteUsageStore


@dataclass(frozen=True, slots=True)
class Stores:
    """One opened backend and a store per domain on it; `check` and `close` are the backend's."""

    backend: Backend
    sessions: SessionStore
    counters: CounterStore
    reminders: ReminderStore
    leads: LeadStore
    turns: TurnBufferStore
    chats: ChatStore
    usage: UsageStore
    secrets: SecretStore
    feedback: FeedbackStore
    answers: OwnerAnswerStore
    transcripts: TranscriptStore
    privacy: PrivacyStore

    @property
    def name(self) -> str:
        """The backend: "redis" or "sqlite"."""
        return self.backend.name

    async def check(self) -> None:
        """Round-trip to the backend; raise StoreError when it is not usable."""
        await self.backend.check()

    async def close(self) -> None:
        """Release connections and threads."""
        await self.backend.close()


def _on_redis(backend: RedisBackend) -> Stores:
    return Stores(
        backend,
        sessions=RedisSessionStore(backend),
        counters=RedisCounterStore(backend),
        reminders=RedisReminderStore(backend),
        leads=RedisLeadStore(backend),
        turns=RedisTurnBufferStore(backend),
        chats=RedisChatStore(backend),
        usage=RedisUsageStore(backend),
        secrets=RedisSecretStore(backend),
        feedback=RedisFeedbackStore(backend),
        answers=RedisOwnerAnswerStore(backend),
        transcripts=RedisTranscriptStore(backend),
        privacy=RedisPrivacyStore(backend),
    )


def _on_sqlite(backend: SqliteBackend) -> Stores:
    return Stores(
        backend,
        sessions=SqliteSessionStore(backend),
        counters=SqliteCounterStore(backend),
        reminders=SqliteReminderStore(backend),
        leads=SqliteLeadStore(backend),
        turns=SqliteTurnBufferStore(backend),
        chats=SqliteChatStore(backend),
        usage=SqliteUsageStore(backend),
        secrets=SqliteSecretStore(backend),
        feedback=SqliteFeedbackStore(backend),
        answers=SqliteOwnerAnswerStore(backend),
        transcripts=SqliteTranscriptStore(backend),
        privacy=SqlitePrivacyStore(backend),
    )


async def open_stores(settings: Settings) -> Stores:
    """Redis when REDIS_URL or REDIS_HOST is set, else the embedded SQLite file (created if need be)."""
    dsn = settings.redis_dsn
    if dsn:
        return _on_redis(RedisBackend(dsn, timeout=settings.store_timeout, cluster=settings.redis_cluster))
    backend = SqliteBackend(settings.database_path, timeout=settings.store_timeout)
    stores = _on_sqlite(backend)  # first: the domains bring their tables
    await backend.open()
    return stores
