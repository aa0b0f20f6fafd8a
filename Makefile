# Kleidi: `make run` serves the demo on http://127.0.0.1:5000, `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-akti test install translations lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

translations: $(STAMP)
	@for dir in translations/*/; do $(BIN)/pybabel compile --statistics -d $$dir; done

run: install translations
	$(BIN)/kleidi init
	$(BIN)/kleidi demo
	$(BIN)/kleidi serve --port 5000

test: install translations
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -q -rs

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache

# The demo under a second brand (examples/akti): its own name, colours, logo and login page.
run-akti: install translations
	KLEIDI_CONFIG=examples/akti/kleidi.toml $(BIN)/kleidi init
	KLEIDI_CONFIG=examples/akti/kleidi.toml $(BIN)/kleidi demo
	KLEIDI_CONFIG=examples/akti/kleidi.toml $(BIN)/kleidi serve --port 5000
