"""Secrets: values the service makes for itself once and every replica must share (the key of the
visitor pseudonyms, when VISITOR_HASH_SECRET is not set)."""

from __future__ import annotations

from abc import abstractmethod

from ..base import StoreContract


class SecretStore(StoreContract):
    """Named secrets, written once, never expiring."""

    @abstractmethod
    async def get_or_create(self, name: str, candidate: str) -> str:
        """The secret `name`: the one stored, or `candidate`, stored now, when there is none. Atomic:
        replicas starting together all get the value the first of them wrote."""


__all__ = ["SecretStore"]
