"""`portfolio-check checks.yaml [--junit FILE]`: the owner's checks before publishing.

Exit 0 when every check passes, 1 when one fails, 2 when the file (or the configuration) cannot be
used, with a message naming the line. The service's settings come from the environment and .env,
as for the service itself: the configured model, or the offline demo model without OPENAI_API_KEY.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from ..errors import StartupError
from ..settings import Settings
from .assertions import judge
from .pipeline import ask, turn_pipeline
from .report import Outcome, Progress, print_table, write_junit
from .spec import Check, CheckFileError, load_checks

PASSED, FAILED, UNUSABLE = 0, 1, 2


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="portfolio-check",
        description="Run the owner's questions through the assistant's turn pipeline and check the answers.",
    )
    parser.add_argument("checks", type=Path, help="the checks file (YAML), e.g. checks.yaml")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="also write the results as JUnit XML")
    return parser.parse_args(argv)


async def run_checks(checks: list[Check], settings: Settings, *, stderr: TextIO) -> list[Outcome]:
    """Each check's question through the turn pipeline, one after another, judged."""
    outcomes: list[Outcome] = []
    progress = Progress(len(checks), stderr)
    async with turn_pipeline(settings) as chat:
        for done, check in enumerate(checks):
            progress.update(done, check.question)
            answer = await ask(chat, check.question)
            verdicts = tuple(judge(assertion, answer.text, answer.sources) for assertion in check.assertions)
            outcomes.append(Outcome(check, answer, verdicts))
        progress.update(len(checks), "")
    progress.close()
    return outcomes


async def check_command(
    argv: Sequence[str] | None = None,
    *,
    settings: Settings | None = None,
    stdout: TextIO = sys.stdout,
    stderr: TextIO = sys.stderr,
) -> int:
    """The command's work, its exit code returned (tests call it with their own settings)."""
    args = _arguments(argv)
    try:
        checks = load_checks(args.checks)
        settings = settings or Settings()
        outcomes = await run_checks(checks, settings, stderr=stderr)
    except CheckFileError as exc:
        stderr.write(f"portfolio-check: {exc}\n")
        return UNUSABLE
    except (StartupError, ValidationError) as exc:
        stderr.write(f"portfolio-check: the service's configuration cannot be used: {exc}\n")
        return UNUSABLE
    print_table(outcomes, stdout)
    if args.junit is not None:
        write_junit(outcomes, args.junit, str(args.checks))
    return PASSED if all(outcome.passed for outcome in outcomes) else FAILED


def main() -> None:
    """The `portfolio-check` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(asyncio.run(check_command()))
