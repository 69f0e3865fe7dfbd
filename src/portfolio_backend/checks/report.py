"""What `portfolio-check` prints (a table, one row per assertion) and writes (JUnit XML)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .assertions import Verdict, source_names
from .pipeline import Answer
from .spec import Check

_WIDTHS = {"#": 3, "question": 34, "assertion": 30, "result": 6, "sources": 30, "tokens": 8, "cost": 10}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One check: its question's answer and each assertion's verdict."""

    check: Check
    answer: Answer
    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return self.answer.error is None and all(verdict.passed for verdict in self.verdicts)

    def failures(self) -> list[str]:
        found = [
            f"{v.assertion.describe()} (line {v.assertion.line}): {v.reason}" for v in self.verdicts if not v.passed
        ]
        if self.answer.error is not None:
            found.insert(0, f"the turn failed: {self.answer.error}")
        return found


def _cell(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def _row(values: dict[str, str]) -> str:
    return "  ".join(_cell(values.get(name, ""), width) for name, width in _WIDTHS.items()).rstrip()


def tokens_of(answer: Answer) -> str:
    """Tokens used, `~` when the server reported none and they were estimated."""
    return ("~" if answer.usage.estimated else "") + str(answer.usage.total_tokens)


def cost_of(answer: Answer) -> str:
    return f"${answer.cost_micro_usd / 1_000_000:.6f}"


def print_table(outcomes: list[Outcome], out: TextIO) -> None:
    out.write(_row({name: name for name in _WIDTHS}) + "\n")
    out.write("  ".join("-" * width for width in _WIDTHS.values()) + "\n")
    for number, outcome in enumerate(outcomes, 1):
        answer = outcome.answer
        first = {
            "#": str(number),
            "question": outcome.check.question,
            "sources": ", ".join(source_names(answer.sources)) or "none",
            "tokens": tokens_of(answer),
            "cost": cost_of(answer),
        }
        rows = [
            {"assertion": v.assertion.describe(), "result": "pass" if v.passed else "FAIL"} for v in outcome.verdicts
        ]
        if answer.error is not None:
            rows.insert(0, {"assertion": f"turn error: {answer.error}", "result": "FAIL"})
        for position, row in enumerate(rows):
            out.write(_row({**first, **row} if position == 0 else row) + "\n")
    failed = [outcome for outcome in outcomes if not outcome.passed]
    total_tokens = sum(outcome.answer.usage.total_tokens for outcome in outcomes)
    total_cost = sum(outcome.answer.cost_micro_usd for outcome in outcomes) / 1_000_000
    out.write(
        f"\n{len(outcomes) - len(failed)} of {len(outcomes)} checks passed ({total_tokens} tokens, ${total_cost:.6f})\n"
    )
    for outcome in failed:
        out.write(f"\nFAILED line {outcome.check.line}: {outcome.check.question}\n")
        for failure in outcome.failures():
            out.write(f"  - {failure}\n")
        out.write(f"  answer: {' '.join(outcome.answer.text.split())[:300]}\n")


class Progress:
    """A one-line progress bar on a terminal (stderr); nothing when stderr is not one (CI logs)."""

    def __init__(self, total: int, stream: TextIO) -> None:
        self.total = total
        self.stream = stream
        self.shown = stream.isatty()

    def update(self, done: int, question: str) -> None:
        if not self.shown:
            return
        filled = round(20 * done / self.total)
        bar = "#" * filled + "." * (20 - filled)
        self.stream.write(f"\r[{bar}] {done}/{self.total} {_cell(question, 40)}")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()


def write_junit(outcomes: list[Outcome], path: Path, checks_file: str) -> None:
    """JUnit XML, one test case per question, as CI systems read it."""
    seconds = sum(outcome.answer.seconds for outcome in outcomes)
    failures = sum(1 for outcome in outcomes if not outcome.passed)
    suites = ET.Element("testsuites", name="portfolio-check", tests=str(len(outcomes)), failures=str(failures))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=checks_file,
        tests=str(len(outcomes)),
        failures=str(failures),
        errors="0",
        time=f"{seconds:.3f}",
    )
    for outcome in outcomes:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=checks_file,
            name=outcome.check.question,
            time=f"{outcome.answer.seconds:.3f}",
        )
        if not outcome.passed:
            reasons = outcome.failures()
            failure = ET.SubElement(case, "failure", message=reasons[0], type="AssertionError")
            failure.text = "\n".join(reasons)
        sources = ", ".join(source_names(outcome.answer.sources)) or "none"
        ET.SubElement(case, "system-out").text = (
            f"{outcome.answer.text}\n\nsources: {sources}\n"
            f"tokens: {tokens_of(outcome.answer)}, cost: {cost_of(outcome.answer)}"
        )
    ET.indent(suites)
    path.write_bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n")
