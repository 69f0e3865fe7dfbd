"""Leads: contact details and unanswered questions kept for the site owner, newest first."""

from __future__ import annotations

import json
from abc import abstractmethod
from dataclasses import asdict, dataclass

from ..base import StoreContract

# How many leads and unknown questions a store keeps: the owner is notified of each as it comes,
# the store is the backlog, and the cap stops a flood of them from growing it without end.
LEADS_KEPT = 1000


@dataclass(slots=True)
class Lead:
    """Contact details a visitor chose to leave ("contact"), or a question the model could not
    answer ("question"), kept for the site owner."""

    lead_id: str
    kind: str
    created_at: int
    session_id: str | None = None
    email: str | None = None
    name: str | None = None
    notes: str | None = None
    question: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> Lead:
        return cls(**json.loads(text))


class LeadStore(StoreContract):
    """The owner's backlog of leads, capped at `LEADS_KEPT`."""

    @abstractmethod
    async def add(self, lead: Lead) -> None:
        """Keep a lead or an unknown question for the owner; only the newest `LEADS_KEPT` stay."""

    @abstractmethod
    async def newest(self, count: int) -> list[Lead]:
        """The newest `count` leads and questions, newest first."""
