"""Folder and file names made from values (arm keys, grid axis values, class names)."""

from __future__ import annotations

import json
import re
from typing import Any


def slug(value: Any, limit: int | None = None) -> str:
    """``value`` as a file name: runs of characters other than letters, digits and ``. + = -`` become one ``_``;
    a value that is not a string is written as JSON first; ``limit``: at most that many characters."""
    text = value if isinstance(value, str) else json.dumps(value)
    return re.sub(r"[^A-Za-z0-9.+=-]+", "_", text).strip("_")[:limit]
