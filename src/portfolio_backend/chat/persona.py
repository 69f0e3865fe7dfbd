"""The system prompt's persona: the owner's text, then what every deployment tells the model."""

from __future__ import annotations

# Visitors write in many languages and the widget speaks theirs (docs/widget.md); an owner's
# persona is usually written in one, which models otherwise tend to answer in.
ANSWER_IN_THE_VISITORS_LANGUAGE = (
    "Answer in the language the visitor writes in, even when these instructions are in another one."
)


def persona(owner_text: str) -> str:
    """The system prompt's persona: the owner's SYSTEM_PROMPT_FILE text and the shared rules."""
    return f"{owner_text.strip()}\n\n{ANSWER_IN_THE_VISITORS_LANGUAGE}"
