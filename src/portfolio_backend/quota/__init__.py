"""Visitor identity and the quotas that keep anonymous visitors from running up the bill."""

from __future__ import annotations

from .bounds import GLOBAL_SUBJECT, Bounds
from .limiter import Bound, Limiter, QuotaDecision
from .streams import hold_stream_slot
from .turn import TurnCharges, charge_turn
from .visitor import client_address, visitor_key

__all__ = [
    "GLOBAL_SUBJECT",
    "Bound",
    "Bounds",
    "Limiter",
    "QuotaDecision",
    "TurnCharges",
    "charge_turn",
    "client_address",
    "hold_stream_slot",
    "visitor_key",
]
