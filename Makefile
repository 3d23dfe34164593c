# The two set-up commands of the README. Both work on a fresh machine with only ../shared beside the clone.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# torch is pinned to the CPU build on this machine's disk; pip would otherwise fetch a CUDA build.
TORCH   ?= torch==2.13.0
# Test worker processes (pytest-xdist), each with one torch thread (tests/conftest.py), one per core.
JOBS    ?= 2
# More pytest options, e.g. PYTEST_ARGS=--durations=30 make test (the slowest tests).
PYTEST_ARGS ?=

.PHONY: demo test test-data test-browser install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/ganaug demo

test: install test-data test-browser
	$(BIN)/python -m pytest -q -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

# Best effort: Debian's Fashion-MNIST package, so its loader test runs on the real files (skipped otherwise).
test-data:
	@if [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1)) || \
		echo "note: dataset-fashion-mnist not installed; its test will be skipped"; \
	fi

# Best effort: Debian's Chromium and its driver, so the reports are rendered in a real browser (skipped otherwise).
test-browser:
	@if ! { command -v chromium && command -v chromedriver; } >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		(apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		 (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1)) || \
		echo "note: chromium / chromium-driver not installed; the browser test will be skipped"; \
	fi

clean:
	rm -rf $(VENV) runs .pytest_cache
