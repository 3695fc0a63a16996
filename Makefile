# Two commands: `make reproduce` (every experiment's default sweep, offline, then the report)
# and `make test` (the whole suite). Both create .venv on first use; the install is redone
# only when pyproject.toml changes (a stamp file in .venv keyed on its hash).

PYTHON ?= python3
JOBS ?= 2
VENV := .venv
BIN := $(VENV)/bin
HASH := $(shell cat pyproject.toml | sha256sum | cut -c1-16)
INSTALLED := $(VENV)/.installed-$(HASH)
INSTALLED_TEST := $(VENV)/.installed-test-$(HASH)

.PHONY: reproduce test install report clean-outputs

install: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): | $(BIN)/python
	@echo "installing amdlib into $(VENV) (llama-cpp-python builds from source: ~10 min on 2 cores)"
	$(BIN)/python -m pip install -e .
	find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '*-$(HASH)' -delete
	touch $@

$(INSTALLED_TEST): | $(BIN)/python
	$(BIN)/python -m pip install -e '.[test]'
	find $(VENV) -maxdepth 1 -name '.installed-*' ! -name '*-$(HASH)' -delete
	touch $@ $(INSTALLED)

# Each experiment runs params/<exp>/sweep_default.yaml if it has one, else params/<exp>/default.yaml.
reproduce: $(INSTALLED)
	@status=0; for dir in params/*/; do exp=$$(basename $$dir); \
	  if [ -f $$dir/sweep_default.yaml ]; then $(BIN)/amd sweep $$dir/sweep_default.yaml -j $(JOBS) || status=1; \
	  elif [ -f $$dir/default.yaml ]; then $(BIN)/amd run $$exp -p $$dir/default.yaml || status=1; fi; \
	done; \
	index=$$($(BIN)/amd report) || status=1; \
	echo "report: $$index"; exit $$status

report: $(INSTALLED)
	$(BIN)/amd report

test: $(INSTALLED_TEST)
	$(BIN)/python -m pytest -n 2 --dist loadscope

clean-outputs:
	rm -rf outputs
