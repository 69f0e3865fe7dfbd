"""AI SDK chat ids, as POST /api/chat and GET and DELETE /api/chat/{id}/stream accept them."""

from __future__ import annotations

# What a chat id may hold: the SDK's generated ids (16 letters and digits), uuids, slugs. No `/`,
# so the id can stand in a path (the SDK resumes a chat at GET /api/chat/{id}/stream).
CHAT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,128}$"
