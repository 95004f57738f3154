# The two commands a newcomer needs: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STORE ?= khadamat-store

$(BIN)/khadamat: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/khadamat

.PHONY: install demo test lint
install: $(BIN)/khadamat

demo: install
	$(BIN)/khadamat load --store $(STORE) examples/catalog
	$(BIN)/khadamat stats --store $(STORE)

test: install
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
