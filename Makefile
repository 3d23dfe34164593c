# The two set-up commands of the README. Both work on a fresh machine with only ../shared beside the clone.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
# torch is pinned to the CPU build on this machine's disk; pip would otherwise fetch a CUDA build.
TORCH   ?= torch==2.13.0

.PHONY: demo test install install-test clean

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

test: install
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) runs .pytest_cache
