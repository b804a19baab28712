# Two set-up commands on a fresh machine, each doing its own set-up:
#   make serve   — the main job: the example sites on an embedded SQLite file
#   make test    — the whole suite, browser tests in real Chromium included
VENV ?= .venv
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: serve test browser postgres bench clean

serve: $(STAMP)
	$(VENV)/bin/gatekeeper serve

test: $(STAMP) browser postgres
	$(VENV)/bin/python -m pytest

browser: $(STAMP)
	@VENV=$(VENV) scripts/ensure-browser

postgres:
	@scripts/ensure-postgres

bench: $(STAMP) browser postgres
	$(VENV)/bin/python -m bench
	$(VENV)/bin/python -m bench browser
	$(VENV)/bin/python -m bench shop

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

clean:
	rm -rf $(VENV) gatekeeper.db gatekeeper.db-wal gatekeeper.db-shm
