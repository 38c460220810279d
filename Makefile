# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
INDEX   ?= data/index
CORPUS  ?= data/demo

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run ingest serve test test-fast lint bench bench-quick eval browser-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

ingest: install
	$(BIN)/vraagbaak ingest $(CORPUS) --index $(INDEX)

run: ingest
	$(BIN)/vraagbaak serve --index $(INDEX)

# Debian's chromium for the real-browser test; Playwright never downloads a browser here.
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -q && apt-get install -y -q chromium; \
	  else sudo apt-get update -q && sudo apt-get install -y -q chromium; fi; }

test: install browser-deps
	$(BIN)/python -m pytest -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser and not load"

lint: install
	$(BIN)/ruff check .

eval: install
	$(BIN)/vraagbaak eval --index $(INDEX)

bench: install
	$(BIN)/python -m bench.run --full

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) data/index .pytest_cache
