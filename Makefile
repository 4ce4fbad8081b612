# Two commands do everything on a fresh Debian machine: `make demo` and `make test`.
# Each installs what is missing (ngspice + libngspice0 through apt-get, a .venv with the
# package and its test extras) and then runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT    ?= out
PYTEST_ARGS ?=

.PHONY: demo test setup ngspice bench netlists clean

demo: setup
	$(PY) -m fefet_spice.cli run -o $(OUT)

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

setup: ngspice $(STAMP)

ngspice:
	@if command -v ngspice >/dev/null 2>&1 && { ldconfig -p | grep -q libngspice.so; }; then \
	  echo "ngspice: $$(command -v ngspice) (found)"; \
	else \
	  echo "ngspice: installing ngspice and libngspice0 with apt-get"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq ngspice libngspice0 >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

bench: setup
	$(PY) bench/run_all.py

netlists: setup
	$(PY) -m fefet_spice.cli netlist --all -o netlists

clean:
	rm -rf $(OUT) .pytest_cache
