"""The offline demo model: runs the whole flow (streaming, tools, history) with no API key.

It is not a language model. It answers from a few rules so a newcomer sees every event type:
asked the time, it calls get_current_time; given arithmetic, it calls calculate; asked about the
owner, it quotes the passage of the owner's knowledge (in its system message) that shares the most
words with the question and names its source; otherwise it says what it is and how to connect a
real model, streaming word by word.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncGenerator
from typing import Any

from ..knowledge.context import quoted_passages
from ..knowledge.query import STOPWORDS
from .base import Completion, Delta, TextDelta, ToolCall

_TIME = re.compile(r"\b(time|date|today|clock)\b", re.IGNORECASE)
_ZONE = re.compile(r"\b(?:in|for)\s+([A-Z][A-Za-z_]+/[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z_]+)?)")
_MATH = re.compile(
    r"(?:calculate|compute|what is|what's)?\s*([-+*/^%().\d\s]*\d[-+*/^%().\d\s]*)",
    re.IGNORECASE,
)
_SQUARED = re.compile(r"(\d+(?:\.\d+)?)\s+squared", re.IGNORECASE)
_NAME = re.compile(r"\bmy name is ([A-Z][a-z]+)", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+")
_CANNED = (
    "Hello! I am the offline demo model of PortfolioBackend, so my answers are canned. "
    "Ask me the time or a sum such as 15 * 7 + 23 to see tool calls, or ask about the site's owner to see "
    "answers from their pages and notes (data/knowledge). "
    "Set OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible server) to talk to a real model."
)


def _math_expression(prompt: str) -> str | None:
    squared = _SQUARED.search(prompt)
    if squared:
        return f"{squared.group(1)}**2"
    for match in _MATH.finditer(prompt):
        expression = match.group(1).strip()
        if re.search(r"\d\s*[-+*/^%]\s*[\d(]", expression):
            return expression
    return None


class DemoProvider:
    provider = "demo"
    model = "offline-demo"

    def __init__(self, *, word_delay: float = 0.03) -> None:
        self.word_delay = word_delay

    async def close(self) -> None:
        return None

    async def stream(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]]) -> AsyncGenerator[Delta, None]:
        offered = {tool["function"]["name"] for tool in tools}
        last = messages[-1]
        if last["role"] == "tool":
            results = []
            for message in reversed(messages):
                if message["role"] != "tool":
                    break
                results.append(str(message["content"]))
            text = "Here is what I found: " + " ".join(reversed(results))
        else:
            call = self._tool_call(str(last.get("content", "")), offered)
            if call is not None:
                yield Completion(tool_calls=[call])
                return
            prompt = str(last.get("content", ""))
            text = self._about_name(prompt, messages) or self._from_knowledge(prompt, messages) or _CANNED
        words = text.split(" ")
        for position, word in enumerate(words):
            if self.word_delay:
                await asyncio.sleep(self.word_delay)
            yield TextDelta(word if position == 0 else " " + word)
        # no usage: the turn estimates it, as for any server that reports none
        yield Completion()

    @staticmethod
    def _tool_call(prompt: str, offered: set[str]) -> ToolCall | None:
        call_id = f"call_{uuid.uuid4().hex[:24]}"
        expression = _math_expression(prompt)
        if expression and "calculate" in offered:
            return ToolCall(call_id, "calculate", json.dumps({"expression": expression}))
        if _TIME.search(prompt) and "get_current_time" in offered:
            zone = _ZONE.search(prompt)
            return ToolCall(
                call_id,
                "get_current_time",
                json.dumps({"timezone": zone.group(1) if zone else "UTC"}),
            )
        if re.search(r"\bsession\b", prompt, re.IGNORECASE) and "get_session_info" in offered:
            return ToolCall(call_id, "get_session_info", "{}")
        return None

    @staticmethod
    def _from_knowledge(prompt: str, messages: list[dict[str, Any]]) -> str | None:
        """Quote the passage holding most of the question's words, naming its source; None when no
        passage holds more than half of them."""
        if not messages or messages[0]["role"] != "system":
            return None
        asked = _stems(prompt)
        best, best_score = None, len(asked) / 2
        for passage in quoted_passages(str(messages[0]["content"])):
            score = len(asked & _stems(f"{passage.title} {passage.section} {passage.text}"))
            if score > best_score:
                best, best_score = passage, score
        if best is None:
            return None
        where = f"{best.title}, {best.section}" if best.section else best.title
        quote = " ".join(best.text.split())
        return f'From "{where}" ({best.source}): {quote}'

    @staticmethod
    def _about_name(prompt: str, messages: list[dict[str, Any]]) -> str | None:
        for message in messages:
            name = _NAME.search(str(message.get("content", ""))) if message["role"] == "user" else None
            if name and message is not messages[-1]:
                return f"You told me your name is {name.group(1)}. I keep our conversation for 24 hours."
        name = _NAME.search(prompt)
        if name:
            return f"Nice to meet you, {name.group(1)}! I will remember that for this conversation."
        return None


def _stems(text: str) -> set[str]:
    """Content words, cut to 5 letters so that plurals and verb forms meet (a demo's stemming)."""
    return {word[:5] for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in STOPWORDS}
