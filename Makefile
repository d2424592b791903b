# Two commands do everything on a machine that has python3 (3.11+) and make:
#   make run   - set up, then plan the default Medan scenario (2.1 M residents) into plans/medan-2011
#   make test  - set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint setup clean install-check mutation

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,national,postgresql]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/ektp-opt solve --out plans/medan-2011

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# A plain (not editable) install from a wheel, used from a folder outside the checkout: the shipped
# 10 k scenario is planned and verified there, as a user who ran `pip install ektp-opt` would.
install-check: $(STAMP)
	rm -rf build/dist build/wheel-venv
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps -w build/dist .
	$(PYTHON) -m venv build/wheel-venv
	build/wheel-venv/bin/pip install --quiet --disable-pip-version-check build/dist/*.whl
	cd "$$(mktemp -d)" && $(CURDIR)/build/wheel-venv/bin/ektp-opt solve medan-10k --out plan --workers 1 --quiet >/dev/null \
		&& $(CURDIR)/build/wheel-venv/bin/ektp-opt verify plan \
		&& $(CURDIR)/build/wheel-venv/bin/ektp-opt campaign init --plan plan --db sqlite:///c.db --quiet \
		&& $(CURDIR)/build/wheel-venv/bin/ektp-opt campaign status --db sqlite:///c.db --as-of 2011-09-01 --quiet

test: lint install-check
	$(BIN)/pytest

# Mutation testing of the checks ([tool.mutmut] in pyproject.toml); long (tens of minutes), not in CI.
# The plans the tests break are made once by the unmutated code, in build/mutation-plans.
mutation: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,national,postgresql,mutation]'
	rm -rf build/mutation-plans mutants
	EKTP_TEST_PLANS=$(CURDIR)/build/mutation-plans $(BIN)/pytest -q tests/verify/test_every_rule.py tests/verify/test_rules_named.py tests/national/test_national_rules.py
	EKTP_TEST_PLANS=$(CURDIR)/build/mutation-plans $(BIN)/mutmut run --max-children 2
	$(BIN)/python benchmarks/mutation.py

clean:
	rm -rf $(VENV) plans build mutants src/*.egg-info
