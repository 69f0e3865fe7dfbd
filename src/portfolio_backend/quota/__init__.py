"""Visitor identity and the quotas that keep anonymous visitors from running up the bill."""

from __future__ import annotations

from .bounds import GLOBAL_SUBJECT, Bounds
from .charges import TurnCharges, turn_charges
from .limiter import Bound, Limiter, QuotaDecision
from .pseudonym import VisitorPseudonyms
from .streams import hold_stream_slot
from .visitor import client_address, visitor_key

__all__ = [
    "GLOBAL_SUBJECT",
    "Bound",
    "Bounds",
    "Limiter",
    "QuotaDecision",
    "TurnCharges",
    "VisitorPseudonyms",
    "client_address",
    "hold_stream_slot",
    "turn_charges",
    "visitor_key",
]
