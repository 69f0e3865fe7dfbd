"""Judging one answer: each assertion of a check, against the answer's text and the sources shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .spec import Assertion


@dataclass(frozen=True, slots=True)
class Verdict:
    assertion: Assertion
    passed: bool
    reason: str = ""  # why it failed, for the table and JUnit


def source_names(sources: list[dict[str, Any]]) -> list[str]:
    """What the sources shown are named by in checks, each once: a URL, or a file."""
    names = (str(source.get("url") or source.get("file") or source.get("title", "")) for source in sources)
    return list(dict.fromkeys(names))


def judge(assertion: Assertion, text: str, sources: list[dict[str, Any]]) -> Verdict:
    kind, value = assertion.kind, assertion.value or ""
    if kind == "contains":
        return _verdict(assertion, value in text, f"the answer does not contain {value!r}")
    if kind == "icontains":
        return _verdict(assertion, value.casefold() in text.casefold(), f"the answer does not contain {value!r}")
    if kind == "not-contains":
        return _verdict(assertion, value not in text, f"the answer contains {value!r}")
    if kind == "regex":
        return _verdict(assertion, re.search(value, text) is not None, f"the answer does not match {value!r}")
    names = source_names(sources)
    if kind == "source":
        # a file may be named by its path under KNOWLEDGE_DIR or by its name alone; an owner answer
        # (which has no file of its own) by its title, "The owner's own answer"
        found = any(name == value or name.endswith("/" + value) for name in names) or any(
            str(source.get("title", "")).startswith(value) for source in sources
        )
        return _verdict(assertion, found, f"{value!r} is not among the sources shown ({', '.join(names) or 'none'})")
    if kind == "no-source":
        return _verdict(assertion, not names, f"sources were shown: {', '.join(names)}")
    raise ValueError(f"unknown assertion type {kind!r}")  # spec.py admits only the types above


def _verdict(assertion: Assertion, passed: bool, reason: str) -> Verdict:
    return Verdict(assertion, passed, "" if passed else reason)
