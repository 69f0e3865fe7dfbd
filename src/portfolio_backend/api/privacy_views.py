"""A data-subject export as the API answers it: one JSON file to download, never cached."""

from __future__ import annotations

import json
from typing import Any

from fastapi.responses import Response


def download(document: dict[str, Any], filename: str) -> Response:
    """`document` as a JSON attachment named `filename`; personal data, so no cache keeps it."""
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
