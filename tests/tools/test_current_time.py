"""get_current_time: IANA zones through zoneinfo (tzdata bundled), unknown zones as clear errors."""

from __future__ import annotations

import re

import pytest

from .conftest import ToolBench


async def test_defaults_to_utc(bench: ToolBench) -> None:
    ok, text = await bench.call("get_current_time", {})
    assert ok
    assert text.startswith("Current time in UTC: ")
    assert text.endswith("(UTC+0000)")


@pytest.mark.parametrize(
    ("zone", "offsets"),
    [
        ("Europe/Paris", {"+0100", "+0200"}),
        ("Asia/Kolkata", {"+0530"}),
        ("America/St_Johns", {"-0330", "-0230"}),
        ("Pacific/Chatham", {"+1245", "+1345"}),
    ],
)
async def test_reports_the_time_in_an_iana_zone(bench: ToolBench, zone: str, offsets: set[str]) -> None:
    ok, text = await bench.call("get_current_time", {"timezone": zone})
    assert ok
    assert text.startswith(f"Current time in {zone}: ")
    match = re.search(r"\(UTC([+-]\d{4})\)$", text)
    assert match is not None
    assert match.group(1) in offsets


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe/Pariss", "../../etc/passwd", "/etc/localtime"])
async def test_an_unknown_zone_is_a_clear_error(bench: ToolBench, zone: str) -> None:
    ok, text = await bench.call("get_current_time", {"timezone": zone})
    assert not ok
    assert text == f"Error: Unknown time zone {zone!r}; use an IANA name such as Europe/Paris"


async def test_an_overlong_zone_is_an_argument_error(bench: ToolBench) -> None:
    ok, text = await bench.call("get_current_time", {"timezone": "A" * 65})
    assert not ok
    assert text == "Error: timezone: String should have at most 64 characters"
