# Every target that runs something first makes sure .venv exists and holds the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pykazoo 0.0a8 (a dev dependency) imports setuptools.command.test in its setup.py, which
# setuptools 72.0 removed: packages are built with an older setuptools (pip >= 25.3 option).
BUILD_CONSTRAINTS := $(VENV)/build-constraints.txt

.PHONY: run test lint bench serve clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	printf 'setuptools<72\n' > $(BUILD_CONSTRAINTS)
	$(BIN)/python -m pip install --quiet --build-constraint $(BUILD_CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kazoodesk

serve: $(STAMP)
	$(BIN)/kazoodesk serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/registrar.py
	$(BIN)/python bench/gui.py

clean:
	rm -rf $(VENV) build dist app/*.egg-info
