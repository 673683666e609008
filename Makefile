# Two commands do all the set-up: `make demo` and `make test`. Both create .venv/ and
# node_modules/ from the project's own files (pip + npm, nothing else) when missing or stale.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3.10 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null && { echo $$p; break; }; \
	done)
VENV := .venv
PY := $(VENV)/bin/python
PY_STAMP := $(VENV)/.medledger-installed
NPM_STAMP := node_modules/.medledger-installed
BROWNIE_VENV := .venv-brownie
BROWNIE_STAMP := $(BROWNIE_VENV)/.medledger-installed
BROWNIE := scripts/brownie-env $(BROWNIE_VENV)/bin/brownie
SLITHER_VENV := .venv-slither
SLITHER_STAMP := $(SLITHER_VENV)/.medledger-installed
PYTEST_ARGS ?=

.PHONY: setup brownie-setup slither-setup demo test brownie slither gas compile clean

setup: $(PY_STAMP) $(NPM_STAMP)

# brownie pins web3 7 (medledger: web3 8), so it gets an environment of its own.
brownie-setup: $(BROWNIE_STAMP)

$(BROWNIE_STAMP): requirements-brownie.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.10 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(BROWNIE_VENV)/bin/python || $(PYTHON) -m venv $(BROWNIE_VENV)
	$(BROWNIE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BROWNIE_VENV)/bin/python -m pip install --quiet -r requirements-brownie.txt
	@touch $@

# slither-analyzer pins web3 7 too: an environment of its own, from exact versions.
slither-setup: $(SLITHER_STAMP)

$(SLITHER_STAMP): requirements-slither.txt
	@test -n "$(PYTHON)" || { echo "error: Python 3.10 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(SLITHER_VENV)/bin/python || $(PYTHON) -m venv $(SLITHER_VENV)
	$(SLITHER_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SLITHER_VENV)/bin/python -m pip install --quiet -r requirements-slither.txt
	@touch $@

$(PY_STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: Python 3.10 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# `npm install` with the committed lock installs exactly the locked versions. Not `npm ci`: npm
# records only this platform's anvil binary package in the lock, and `npm ci` then refuses the
# lock for missing the other platforms' optional packages (npm/cli#4828, #8320).
# --ignore-scripts: anvil's binary comes from its platform package (an optional dependency),
# and ganache's native helpers have pure-JS fallbacks; no install script needs to run.
$(NPM_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js 18+ with npm is needed"; exit 1; }
	npm install --no-audit --no-fund --ignore-scripts
	@touch $@

demo: setup
	$(PY) scripts/demo.py

test: setup brownie-setup slither-setup
	$(MAKE) --no-print-directory slither
	$(PY) -m pytest --chains all $(PYTEST_ARGS)
	$(MAKE) --no-print-directory brownie

# Static analysis: slither's high and medium detectors on contracts/ (OpenZeppelin's files left
# out), offline through the project's compiler; any finding not in slither-triage.json fails.
slither: setup slither-setup
	$(PY) scripts/slither_check.py

# The brownie project: its own test suite (which checks that brownie compiles the same bytecode),
# then the deploy and demo scripts, each on an anvil brownie launches and stops.
brownie: setup brownie-setup
	$(BROWNIE) test tests/brownie --confcutdir tests/brownie -p no:cacheprovider
	$(BROWNIE) run scripts/deploy.py
	$(BROWNIE) run scripts/demo.py

gas: setup
	$(PY) benchmarks/gas.py

compile: setup
	$(PY) -m medledger compile

clean:
	rm -rf $(VENV) $(BROWNIE_VENV) $(SLITHER_VENV) node_modules .pytest_cache .hypothesis build
