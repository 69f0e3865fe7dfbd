"""What the visitor wrote themselves: the email addresses, links and phone numbers in a text.

Tools with side effects (lead capture) pass the owner only contact details the visitor wrote, so a
page or passage that steers the model ("reply to attacker@... instead") reaches nobody (issue 25).
Each is compared whole, never as a substring: `smith@visitor.example.com` is not in
`alice.smith@visitor.example.com`, and a phone number is its digits, however it is spaced.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)+")
# a link with a scheme, one starting www., or a bare host name under a top-level domain
_LINK = re.compile(
    r"\b[a-z][a-z0-9+.-]*://[^\s<>\"')\]]+|\bwww\.[^\s<>\"')\]]+|\b(?:[a-z0-9-]+\.)+[a-z]{2,}(?:/[^\s<>\"')\]]*)?",
    re.IGNORECASE,
)
# seven or more digits, with the spaces, dots, dashes and brackets people write between them
_PHONE = re.compile(r"\+?\(?\d(?:[\s.()-]*\d){6,}")


def _email_set(text: str) -> set[str]:
    return {found.lower() for found in _EMAIL.findall(text)}


def _links(text: str) -> list[str]:
    return [link.rstrip(".,;:!?") for link in _LINK.findall(_EMAIL.sub(" ", text))]


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def wrote_address(address: str, visitor_text: str) -> bool:
    """Whether the visitor wrote this email address, whole (letter case aside)."""
    return address.lower() in _email_set(visitor_text)


def not_written(text: str, visitor_text: str) -> list[str]:
    """The addresses, links and phone numbers in `text` the visitor did not write, in order."""
    emails = _email_set(visitor_text)
    links = {link.lower() for link in _links(visitor_text)}
    phones = {_digits(phone) for phone in _PHONE.findall(visitor_text)}
    foreign = [email for email in _EMAIL.findall(text) if email.lower() not in emails]
    foreign += [link for link in _links(text) if link.lower() not in links]
    foreign += [phone.strip() for phone in _PHONE.findall(text) if _digits(phone) not in phones]
    return foreign
