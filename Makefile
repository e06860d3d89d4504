# Ponder — `make run` opens the window, `make test` runs the whole suite.
# Both create .venv on first use and install what they need (llama-cpp-python builds
# from source the first time: ~5-10 minutes on 2 cores; pip caches the wheel after).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: run test install install-test bench screenshot clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/ponder

test: install-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

bench: install
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/ponder bench all --json

clean:
	rm -rf $(VENV) build dist *.egg-info
