"""`portfolio-check`: the owner's questions through the turn pipeline, against the scripted upstream
(pass and fail), the shipped checks.yaml with the demo model as a fresh clone runs it, files it
cannot use (exit 2, naming the line), and JUnit XML."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from portfolio_backend.checks.cli import check_command
from portfolio_backend.settings import Settings
from portfolio_backend.store import OwnerAnswer, open_stores

from ..conftest import ROOT
from ..fixtures.upstream import Reply, ScriptedUpstream

# the checks run on the default store: the store contracts are tested on every store elsewhere
pytestmark = pytest.mark.parametrize("store_kind", ["sqlite"], indirect=True)

CHECKS = """\
checks:
  - question: What are Alex's rates?
    assert:
      - type: icontains
        value: 650 eur
      - type: source
        value: services.md
  - question: What is 6 * 7?
    assert:
      - type: contains
        value: "42"
      - type: no-source
"""


async def run(path: Path, settings: Settings, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await check_command([str(path), *extra], settings=settings, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_passing_checks_exit_0_and_show_each_assertion_sources_tokens_and_cost(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["Day rates start at ", "650 EUR."]), Reply(chunks=["It is 42."]))
    code, out, err = await run(write(tmp_path, CHECKS), upstream_settings())
    assert (code, err) == (0, "")
    assert [request["messages"][-1]["content"] for request in upstream.requests] == [
        "What are Alex's rates?",
        "What is 6 * 7?",
    ]
    lines = out.splitlines()
    rates = next(line for line in lines if "What are Alex's rates?" in line)
    assert "icontains '650 eur'" in rates
    assert "pass" in rates
    assert "services.md" in rates
    assert "$0.0" in rates
    assert any("source 'services.md'" in line and "pass" in line for line in lines)
    assert any("no-source" in line and "pass" in line for line in lines)
    assert "2 of 2 checks passed" in out


async def test_a_failing_check_exits_1_and_says_which_assertion_and_why(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["Ask Alex for a quote."]), Reply(chunks=["It is 42."]))
    code, out, _ = await run(write(tmp_path, CHECKS), upstream_settings())
    assert code == 1
    assert "1 of 2 checks passed" in out
    assert "FAILED line 2: What are Alex's rates?" in out
    assert "icontains '650 eur' (line 4): the answer does not contain '650 eur'" in out
    assert "answer: Ask Alex for a quote." in out


async def test_a_failed_turn_fails_its_check(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply(status=500), Reply(chunks=["It is 42."]))
    code, out, _ = await run(write(tmp_path, CHECKS), upstream_settings())
    assert code == 1
    assert "the turn failed:" in out


async def test_an_owner_answer_in_the_store_is_used_and_can_be_checked_as_a_source(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    settings = upstream_settings()
    stores = await open_stores(settings)
    try:
        await stores.answers.add(OwnerAnswer("a" * 32, "What are Alex's rates?", "700 EUR a day from May.", 1, 1))
    finally:
        await stores.close()
    upstream.script(Reply(chunks=["700 EUR a day from May."]))
    path = write(
        tmp_path,
        "checks:\n  - question: What are Alex's rates?\n    assert:\n"
        "      - type: source\n        value: The owner's own answer\n",
    )
    code, out, _ = await run(path, settings)
    assert code == 0, out
    assert "700 EUR a day from May." in upstream.requests[0]["messages"][0]["content"]


async def test_junit_xml_has_a_case_per_question_and_the_failure(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["No idea."]), Reply(chunks=["It is 42."]))
    junit = tmp_path / "results" / "checks.xml"
    junit.parent.mkdir()
    code, _, _ = await run(write(tmp_path, CHECKS), upstream_settings(), "--junit", str(junit))
    suite = ET.parse(junit).getroot().find("testsuite")
    assert code == 1
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == ["What are Alex's rates?", "What is 6 * 7?"]
    failure = cases[0].find("failure")
    assert failure is not None
    assert "does not contain '650 eur'" in (failure.get("message") or "")
    assert cases[1].find("failure") is None
    assert "It is 42." in (cases[1].findtext("system-out") or "")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "checks:\n  - question: Hi\n    assert:\n      - type: contains\n        value: a: b\n",
            ":5: not valid YAML",
        ),
        (
            "checks:\n  - question: Hi\n    assert:\n      - type: containz\n        value: x\n",
            ":4: unknown assertion type",
        ),
        ("checks:\n  - question: Hi\n    assert:\n      - type: contains\n", ":4: `contains` needs a `value`"),
        (
            "checks:\n  - question: Hi\n    assert:\n      - type: no-source\n        value: x\n",
            ":5: `no-source` takes",
        ),
        ("checks:\n  - question: Hi\n    assert:\n      - type: regex\n        value: '(['\n", ":5: `regex` '(['"),
        ("checks:\n  - question: Hi\n    asert: []\n", ":3: a check has an unknown key 'asert'"),
        ("checks:\n  - question:\n    assert: []\n", ":2: `question` must be text"),
        ("questions: []\n", ":1: the file has an unknown key 'questions'"),
        ("", ": is empty"),
    ],
)
async def test_a_file_it_cannot_use_exits_2_naming_the_line(
    text: str, message: str, make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    path = write(tmp_path, text)
    code, out, err = await run(path, make_settings())
    assert code == 2
    assert out == ""
    assert err.startswith(f"portfolio-check: {path}{message}"), err


def test_the_shipped_checks_pass_with_the_demo_model_as_on_a_fresh_clone(tmp_path: Path, store_kind: str) -> None:
    env: dict[str, Any] = {
        name: value for name, value in os.environ.items() if not name.startswith(("OPENAI_", "REDIS_", "KNOWLEDGE_"))
    }
    env.update(
        SYSTEM_PROMPT_FILE=str(ROOT / "data" / "system_prompt.md"),
        KNOWLEDGE_DIR=str(ROOT / "data" / "knowledge"),
        KNOWLEDGE_INDEX_PATH=str(tmp_path / "knowledge.sqlite3"),
        DATABASE_PATH=str(tmp_path / "store.sqlite3"),
        DEMO_WORD_DELAY="0",
    )
    command = Path(sys.executable).parent / "portfolio-check"  # the console script `uv sync` installed
    junit = tmp_path / "junit.xml"
    result = subprocess.run(
        [str(command), str(ROOT / "checks.yaml"), "--junit", str(junit)],
        cwd=tmp_path,  # no .env of the developer's
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 of 4 checks passed" in result.stdout
    assert result.stderr == ""  # not a terminal: no progress bar in CI logs
    assert junit.is_file()


class Terminal(io.StringIO):
    """stderr as a terminal shows it."""

    def isatty(self) -> bool:
        return True


async def test_a_terminal_sees_a_progress_bar(
    upstream_settings: Callable[..., Settings], upstream: ScriptedUpstream, tmp_path: Path
) -> None:
    upstream.script(Reply(chunks=["Day rates start at 650 EUR."]), Reply(chunks=["42"]))
    terminal = Terminal()
    code = await check_command(
        [str(write(tmp_path, CHECKS))], settings=upstream_settings(), stdout=io.StringIO(), stderr=terminal
    )
    assert code == 0
    assert "[....................] 0/2 What are Alex's rates?" in terminal.getvalue()
    assert "[####################] 2/2" in terminal.getvalue()
