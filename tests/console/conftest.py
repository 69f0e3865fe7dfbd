"""The console's browser tests reuse the widget's: the service as `python main.py`, Debian's Chromium."""

from __future__ import annotations

from ..widget.conftest import browser, console, host_site, open_page, service_for

__all__ = ["browser", "console", "host_site", "open_page", "service_for"]
