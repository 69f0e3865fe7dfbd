"""The base of every JSON request body: text only, so a lone surrogate is a 422 before a route runs.

JSON may escape one half of a UTF-16 pair on its own (`"\\ud800"`), and Python's JSON reader turns
the raw bytes of one (`ED A0 80`) into the same string. Such a string is not text: it cannot be
stored as UTF-8 or sent to the model, so it used to fail mid-turn, after a 200 had started the stream.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator

LONE_SURROGATE = "holds a lone surrogate (an unpaired UTF-16 half), which is not text"


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")  # only a surrogate makes this fail; a pair was joined by the JSON reader
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_is_text(key) and _is_text(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(_is_text(item) for item in value)
    return True


class RequestBody(BaseModel):
    """Every field, nested dicts and lists included, is checked; the error names the field, never the value
    (a lone surrogate cannot be written into a JSON answer either)."""

    @field_validator("*", mode="before")
    @classmethod
    def _text_only(cls, value: Any) -> Any:
        if not _is_text(value):
            raise ValueError(LONE_SURROGATE)
        return value
