# Two commands do everything on a fresh Debian machine: `make demo` and `make test`.
# Each installs what is missing (ngspice + libngspice0 through apt-get, a .venv with the
# package and its test extras) and then runs.
# `make test` is the default suite (tests not marked slow, on every core with pytest-xdist);
# `make test-all` adds the slow cases (long ngspice decks, 16x16 arrays, the browser test).
# `make artifacts` regenerates every committed artefact (measurements, fits, LUTs, netlists) by its
# documented command, in dependency order; `make check-artifacts` regenerates them into a temporary
# folder and says which committed file no longer matches, within stated tolerances.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT    ?= out
PYTEST_ARGS ?=
# pytest-xdist workers: one per logical core ("auto" would count physical cores only when psutil is
# installed, i.e. one worker on a 2-vCPU machine with SMT siblings)
JOBS   ?= logical

.PHONY: demo test test-all setup ngspice bench netlists artifacts check-artifacts clean

demo: setup
	$(PY) -m fefet_spice.cli run -o $(OUT) --force
	@echo "The CLI is .venv/bin/fefet-spice (or run '. .venv/bin/activate' once, then fefet-spice COMMAND --help)."

# Wall time is printed at the end (POSIX sh arithmetic: make runs recipes with /bin/sh).
test: setup
	@t0=$$(date +%s); rc=0; \
	$(PY) -m pytest -q -n $(JOBS) -m "not slow" $(PYTEST_ARGS) || rc=$$?; \
	echo "make test: $$(( $$(date +%s) - t0 )) s wall (exit status $$rc)"; exit $$rc

test-all: setup
	@t0=$$(date +%s); rc=0; \
	$(PY) -m pytest -q -n $(JOBS) $(PYTEST_ARGS) || rc=$$?; \
	echo "make test-all: $$(( $$(date +%s) - t0 )) s wall (exit status $$rc)"; exit $$rc

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

artifacts: setup
	@t0=$$(date +%s); rc=0; $(PY) bench/artifacts.py regenerate || rc=$$?; \
	echo "make artifacts: $$(( $$(date +%s) - t0 )) s wall (exit status $$rc)"; exit $$rc

check-artifacts: setup
	@t0=$$(date +%s); rc=0; $(PY) bench/artifacts.py check || rc=$$?; \
	echo "make check-artifacts: $$(( $$(date +%s) - t0 )) s wall (exit status $$rc)"; exit $$rc

clean:
	rm -rf $(OUT) .pytest_cache
