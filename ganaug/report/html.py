"""report.md -> a self-contained report.html (images embedded as data URIs, readable offline)."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import markdown

from ganaug.checkpoint import atomic_write

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.92em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f3f3f3; }
img { max-width: 100%; }
code, pre { background: #f6f6f6; }
pre { padding: 0.6em; overflow-x: auto; }
"""


def markdown_to_html(md_text: str, base_dir: Path, title: str) -> str:
    """Render markdown (with tables) and inline every local ``<img src>`` found under ``base_dir``."""
    body = markdown.markdown(md_text, extensions=["tables", "fenced_code"])

    def inline(match: re.Match) -> str:
        src = html.unescape(match.group(1))
        path = base_dir / src
        if src.startswith(("data:", "http:", "https:")) or not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    body = re.sub(r'src="([^"]+)"', inline, body)
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def precision_note(events: list[dict] | None) -> list[str]:
    """A paragraph on the trainers that fell back from bf16 to fp32 (``runtime.PrecisionFallback``); [] if none did."""
    if not events:
        return []
    where = "; ".join(f"{e['trainer']} at {e['at']} (restarted from {e['restored']})" for e in events)
    return [f"**Numerics.** {len(events)} trainer(s) produced a non-finite loss in bf16 on this CPU and went on in "
            f"fp32 from their last good state: {where}. Their results are fp32 results from that point on.", ""]


def write_report(out: Path, md: str, title: str) -> Path:
    """Write ``out/report.md`` and its self-contained ``out/report.html`` atomically; return the HTML's path."""
    atomic_write(out / "report.md", lambda tmp: tmp.write_text(md))
    page = markdown_to_html(md, out, title)
    atomic_write(out / "report.html", lambda tmp: tmp.write_text(page))
    return out / "report.html"
