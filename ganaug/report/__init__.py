"""Reports: figures (matplotlib), report.md, and a self-contained report.html made from it."""
