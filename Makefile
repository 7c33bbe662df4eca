# Every target that runs something first makes sure .venv exists and holds the project.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pykazoo 0.0a8 (a dev dependency) imports setuptools.command.test in its setup.py, which
# setuptools 72.0 removed: packages are built with an older setuptools (pip >= 25.3 option).
BUILD_CONSTRAINTS := $(VENV)/build-constraints.txt
PACKAGE_STAMP := $(VENV)/.installed-package

.PHONY: run test lint bench serve package clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	printf 'setuptools<72\n' > $(BUILD_CONSTRAINTS)
	$(BIN)/python -m pip install --quiet --build-constraint $(BUILD_CONSTRAINTS) -e '.[dev]'
	touch $(STAMP)

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --build-constraint $(BUILD_CONSTRAINTS) -e '.[dev,package]'
	touch $(PACKAGE_STAMP)

run: $(STAMP)
	$(BIN)/kazoodesk

serve: $(STAMP)
	$(BIN)/kazoodesk serve --demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests bench packaging
	$(BIN)/ruff format --check app tests bench packaging
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/api.py
	$(BIN)/python bench/registrar.py
	$(BIN)/python bench/gui.py

# dist/kazoodesk/ (PyInstaller, one folder), then from it dist/kazoodesk-<version>-linux-x86_64.tar.gz
# and dist/kazoodesk_<version>_amd64.deb (packaging/README.md; tests/packaging checks them)
package: $(PACKAGE_STAMP)
	rm -rf build/pyinstaller dist/kazoodesk
	$(BIN)/python packaging/icons.py build/icons
	$(BIN)/pyinstaller --noconfirm --log-level WARN --workpath build/pyinstaller --distpath dist \
		packaging/pyinstaller/kazoodesk.spec
	$(BIN)/python packaging/linux/build_packages.py

clean:
	rm -rf $(VENV) build dist app/*.egg-info
