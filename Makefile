# Ponder — `make run` opens the window, `make test` runs the whole suite.
# Both create .venv on first use and install what they need (llama-cpp-python builds
# from source the first time: ~5-10 minutes on 2 cores; pip caches the wheel after).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: run test test-xcb install install-test bench screenshot clean package package-test walkthrough install-desktop

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-package: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[package]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(VENV)/bin/ponder

test: install-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

# the tests that show windows once more on a real X server (Xvfb, Qt's xcb platform):
# offscreen hides platform differences (focus, window activation, popups). CI runs this.
XCB_TESTS ?= tests/ui tests/backends/cloud/test_window_cloud.py tests/packaging
test-xcb: install-test
	QT_QPA_PLATFORM=xcb packaging/xvfb.sh $(PY) -m pytest $(XCB_TESTS) -q

# the README's screenshots, from the real window on Xvfb (xcb) with a fresh PONDER_HOME
screenshot: install
	home="$$(mktemp -d)" && PONDER_HOME="$$home" QT_QPA_PLATFORM=xcb packaging/xvfb.sh $(PY) packaging/screenshot.py resources/screenshots; \
	status=$$?; rm -rf "$$home"; exit $$status

bench: install
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/ponder bench all --json

# The double-clickable app (PyInstaller, one folder): dist/ponder/ponder. See packaging/README.md.
APP_DIR    ?= dist/ponder
APP_EXE    ?= $(CURDIR)/$(APP_DIR)/ponder
DATA_HOME  := $(or $(XDG_DATA_HOME),$(HOME)/.local/share)
ICON_SIZES := 16 32 48 64 128 256

package: $(VENV)/.installed-package
	PYTHON=$(PY) packaging/build.sh

# build, then run the built app's --self-test (not the source tree's) on Xvfb with xcb when
# Xvfb is installed (else offscreen); CI runs this
package-test: package
	packaging/smoke_test.sh $(APP_DIR)/ponder

# drive the built app on Xvfb with real X input (xdotool): type, send, switch models, open
# and close the thinking panel and the trace viewer, stop with Esc; screenshots of each step
# in build/walkthrough/. Needs `make package` first (CI: after package-test).
walkthrough: install
	@test -x "$(APP_DIR)/ponder" || { echo "$(APP_DIR)/ponder not found: run 'make package' first" >&2; exit 1; }
	packaging/xvfb.sh $(PY) packaging/walkthrough.py $(APP_DIR)/ponder --out build/walkthrough

# menu entry and icons for the current user ($$XDG_DATA_HOME or ~/.local/share)
install-desktop:
	@test -x "$(APP_EXE)" || { echo "$(APP_EXE) not found: run 'make package' first (or pass APP_EXE=/path/to/ponder)" >&2; exit 1; }
	install -d "$(DATA_HOME)/applications"
	sed -e 's|^Exec=.*|Exec="$(APP_EXE)"|' -e 's|^TryExec=.*|TryExec=$(APP_EXE)|' \
		packaging/linux/ponder.desktop > "$(DATA_HOME)/applications/ponder.desktop"
	for size in $(ICON_SIZES); do \
		install -D -m 644 resources/icons/ponder-$$size.png "$(DATA_HOME)/icons/hicolor/$${size}x$${size}/apps/ponder.png"; \
	done
	install -D -m 644 resources/icons/ponder.svg "$(DATA_HOME)/icons/hicolor/scalable/apps/ponder.svg"
	@if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$(DATA_HOME)/applications" || true; fi
	@if command -v gtk-update-icon-cache >/dev/null; then gtk-update-icon-cache -q -t "$(DATA_HOME)/icons/hicolor" || true; fi
	@echo "installed $(DATA_HOME)/applications/ponder.desktop (runs $(APP_EXE)) and icons in $(DATA_HOME)/icons/hicolor"

clean:
	rm -rf $(VENV) build dist *.egg-info
