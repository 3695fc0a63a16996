# Two commands: `make reproduce` (every experiment's default sweep, offline, then the report)
# and `make test` (the whole suite). Both create .venv on first use; the install is redone
# only when pyproject.toml or requirements.lock changes (a stamp file in .venv keyed on both).
#
# The install reads exact pins from requirements.lock (`make lock` regenerates it), and takes
# llama-cpp-python from a wheel that scripts/llama-wheel.sh builds once per machine and user
# for a portable x86-64 baseline (never -march=native: see that script).

PYTHON ?= python3
JOBS ?= 2
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)
INSTALLED := $(VENV)/.installed-$(HASH)
INSTALLED_TEST := $(VENV)/.installed-test-$(HASH)
PIP_INSTALL = $(BIN)/python -m pip install --find-links "$$wheels" --only-binary llama-cpp-python -c requirements.lock

.PHONY: reproduce paper paper-full test install report check-report clean-outputs lock

install: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# $(call install_into_venv,<pip target>,<stamps>): install, drop stamps of older installs, stamp.
define install_into_venv
	@echo "installing amdlib into $(VENV) (the first llama-cpp-python build takes ~10 min on 2 cores)"
	wheels=$$(scripts/llama-wheel.sh $(BIN)/python) && $(PIP_INSTALL) -e '$(1)'
	find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '*-$(HASH)' -delete
	touch $(2)
endef

$(INSTALLED): | $(BIN)/python
	$(call install_into_venv,.,$@)

$(INSTALLED_TEST): | $(BIN)/python
	$(call install_into_venv,.[test],$@ $(INSTALLED))

# Re-resolve every dependency from pyproject.toml in a scratch venv and pin what was installed.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	wheels=$$(scripts/llama-wheel.sh .lock-venv/bin/python) && \
	  .lock-venv/bin/python -m pip install --find-links "$$wheels" --only-binary llama-cpp-python -e '.[test]'
	.lock-venv/bin/python scripts/write-lock.py > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock
	rm -rf .lock-venv

# Each experiment runs params/<exp>/sweep_default.yaml if it has one, else params/<exp>/default.yaml.
reproduce: $(INSTALLED)
	@status=0; for dir in params/*/; do exp=$$(basename $$dir); \
	  if [ -f $$dir/sweep_default.yaml ]; then $(BIN)/amd sweep $$dir/sweep_default.yaml -j $(JOBS) || status=1; \
	  elif [ -f $$dir/default.yaml ]; then $(BIN)/amd run $$exp -p $$dir/default.yaml || status=1; fi; \
	done; \
	index=$$($(BIN)/amd report) || status=1; \
	echo "report: $$index"; exit $$status

# Every paper item the package reruns, at its offline default budget (`amd paper` lists them), then
# the report with one page per paper. paper-full adds the full grids (paper-budget neural nets, every
# weight set of Figure S6). Both resume where they stopped; SCHEDULER=tcp://HOST:8786 uses Dask.
PAPER_RUN = $(BIN)/amd paper run --all -j $(JOBS) $(if $(SCHEDULER),--scheduler $(SCHEDULER))

paper: $(INSTALLED)
	@status=0; $(PAPER_RUN) || status=1; index=$$($(BIN)/amd report) || status=1; \
	echo "report: $$index"; exit $$status

paper-full: $(INSTALLED)
	@status=0; $(PAPER_RUN) --full || status=1; index=$$($(BIN)/amd report) || status=1; \
	echo "report: $$index"; exit $$status

report: $(INSTALLED)
	$(BIN)/amd report

# After `make reproduce`: the report page in headless Chromium, amd runs/show/open, the notebooks.
check-report: $(INSTALLED)
	$(BIN)/python scripts/check-report.py outputs

test: $(INSTALLED_TEST)
	$(BIN)/python -m pytest -n 2 --dist loadscope

clean-outputs:
	rm -rf outputs
