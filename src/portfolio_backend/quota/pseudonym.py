"""What a visitor is known by in the store, the logs and the console: a pseudonym, not their address.

quota/visitor.py names the visitor as counted: an IPv4 address or an IPv6 network. Stored as is,
that address would sit in every counter key, session row and usage row. By default it is replaced
by a keyed hash (HMAC-SHA256), which counts exactly as the address did (one address, one
pseudonym) but cannot be turned back into it without the key: without one, hashing all 2^32 IPv4
addresses would undo it in minutes.

The key is VISITOR_HASH_SECRET, else a random one the first replica to start writes into the store
(store/secrets), so that every replica on that store names a visitor alike and quotas stay exact
across them. STORE_VISITOR_IPS=true keeps the address itself (docs/privacy.md).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..errors import StoreError
from ..settings import Settings
from ..store.secrets import SecretStore

SECRET_NAME = "visitor-hash"
# 128 bits of the digest: collisions between visitors need about 2^64 of them
_HEX_CHARS = 32


class VisitorPseudonyms:
    """A visitor's pseudonym from their counted address, once `ready()` has the key."""

    def __init__(self, settings: Settings, secret_store: SecretStore) -> None:
        self._secret_store = secret_store
        self.keeps_addresses = settings.store_visitor_ips
        given = settings.visitor_hash_secret
        self._key: bytes | None = given.get_secret_value().encode() if given else None

    async def ready(self) -> None:
        """Read the shared key from the store (making it on the first start), once; StoreError while
        the store cannot be reached, so that a replica never counts under a key of its own."""
        if self.keeps_addresses or self._key is not None:
            return
        self._key = (await self._secret_store.get_or_create(SECRET_NAME, secrets.token_hex(32))).encode()

    def of(self, counted: str) -> str:
        """The pseudonym of `counted` (quota.visitor_key), or `counted` itself with STORE_VISITOR_IPS."""
        if self.keeps_addresses:
            return counted
        if self._key is None:
            raise StoreError("visitor pseudonyms: the key has not been read from the store yet")
        return "v-" + hmac.new(self._key, counted.encode(), hashlib.sha256).hexdigest()[:_HEX_CHARS]
