# One entry point for people and CI. `make demo` and `make test` work on a fresh machine: they
# build .venv with Python 3.13 (the Lambda runtime) and install the hash-pinned locks themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
SAM_STAMP := $(SAM_VENV)/.installed

# A working 3.13: on PATH (Debian 13 system package), the system path, or under pyenv. The bare
# pyenv shim `python3.13` exists even when 3.13 is not enabled and then fails, so each candidate is
# run, not just found.
PYTHON313 ?= $(shell for c in python3.13 /usr/bin/python3.13 /usr/local/bin/python3.13 \
	"$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13 "$$HOME"/.pyenv/versions/3.13*/bin/python3.13; do \
	  if [ -x "$$(command -v $$c 2>/dev/null)" ] && "$$c" -c 'import sys, venv; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then \
	    command -v "$$c"; break; fi; done)

.PHONY: help python venv sam-venv test test-fast lint sandbox demo validate build lock bench bench-quick clean browser browser-if-possible

help:
	@echo "make demo      run the integration on the local sandbox and show each step"
	@echo "make test      the whole suite (unit, contract, integration, acceptance, infra) + lint"
	@echo "make sandbox   start emulators + local stack (Ctrl-C stops all)"
	@echo "make lint      ruff + mypy (strict on the bridge package)"
	@echo "make validate  cfn-lint + sam validate --lint;  make build: sam build"
	@echo "make bench     benchmarks in bench/ (make bench-quick: bounded time)"
	@echo "make browser   install Chromium + chromedriver (Debian apt) for the browser test"

python:
	@if [ -z "$(PYTHON313)" ]; then \
	  echo "error: no working Python 3.13 found (tried python3.13 on PATH, /usr/bin, pyenv versions/3.13*)." >&2; \
	  echo "       install it (Debian 13: apt-get install python3.13 python3.13-venv; pyenv: pyenv install 3.13) or pass PYTHON313=/path/to/python3.13" >&2; \
	  exit 1; fi
	@echo "using $(PYTHON313)"

$(STAMP): requirements/dev.txt pyproject.toml | python
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	@$(PY) -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	@# Bytecode at install: uv writes none by default, and where PYTHONDONTWRITEBYTECODE is set (this
	@# kind of machine) every process the suite starts would compile moto, botocore and pydantic
	@# from source again: 1.8 s of CPU per interpreter against 0.7 s.
	@$(VENV)/bin/uv pip install -q -p $(PY) --compile-bytecode --require-hashes -r requirements/dev.txt
	@$(VENV)/bin/uv pip install -q -p $(PY) --no-deps -e .
	@touch $@

venv: $(STAMP)

$(SAM_STAMP): requirements/sam.txt | python
	@test -x $(SAM_VENV)/bin/python || $(PYTHON313) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/python -m pip install -q --disable-pip-version-check "uv==$(UV_VERSION)"
	@$(SAM_VENV)/bin/uv pip install -q -p $(SAM_VENV)/bin/python --compile-bytecode --require-hashes -r requirements/sam.txt
	@touch $@

sam-venv: $(SAM_STAMP)

PY_SOURCES := shared/bridge functions sandbox tests $(wildcard bench)

lint: venv
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy $(PY_SOURCES)

# Three levels: cfn-lint on the SAM template, SAM's own validation, and cfn-lint on the template
# expanded to plain CloudFormation (cfn-lint >= 1.54 no longer expands SAM resources, so only the
# last one sees a bad Runtime or a dangling !Ref inside a function).
validate: venv sam-venv
	$(VENV)/bin/cfn-lint template.yaml
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam validate --lint --region eu-central-1
	@mkdir -p .aws-sam
	$(SAM_VENV)/bin/python tests/infra/expand_sam.py template.yaml .aws-sam/expanded.json
	$(VENV)/bin/cfn-lint .aws-sam/expanded.json

build: sam-venv
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(SAM_VENV)/bin/sam build --region eu-central-1

test: venv sam-venv lint browser-if-possible
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(PY) -m pytest

# The browser test (tests/browser) drives headless Chromium: Debian's `chromium` + `chromium-driver`
# (~225 packages, ~220 MB on a bare Debian 12: minutes; docs/performance.md "Deal tab").
# `make browser` installs them, with sudo when not root, or says how; `make test` tries the same
# where it can (root or password-less sudo, apt-get present) and otherwise leaves the test to skip
# with that reason. CI (`.ci/run`) installs it first and then sets BRIDGE_REQUIRE_BROWSER=1.
BROWSER_PRESENT = command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1
BROWSER_APT = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver fonts-liberation

browser:
	@if $(BROWSER_PRESENT); then echo "chromium and chromedriver are installed"; exit 0; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
	  echo "error: no apt-get here; install Chromium and a matching chromedriver on PATH by hand" >&2; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	else echo "error: not root and no sudo; as root run: $(BROWSER_APT)" >&2; exit 1; fi; \
	echo "installing chromium + chromium-driver (apt)"; \
	$$sudo sh -c '$(BROWSER_APT)' && $(BROWSER_PRESENT) && echo "chromium and chromedriver are installed"

browser-if-possible:
	@if $(BROWSER_PRESENT); then exit 0; fi; \
	if command -v apt-get >/dev/null 2>&1 && { [ "$$(id -u)" = 0 ] || sudo -n true 2>/dev/null; }; then \
	  $(MAKE) --no-print-directory browser || echo "warning: chromium install failed; the browser test will skip (or fail under BRIDGE_REQUIRE_BROWSER=1)" >&2; \
	else \
	  echo "note: chromium/chromedriver absent and cannot be installed without a password; the browser test will skip. Install: make browser (or as root: $(BROWSER_APT))"; \
	fi

test-fast: venv
	$(PY) -m pytest tests/unit

sandbox: venv
	$(PY) -m sandbox

demo: venv
	$(PY) -m sandbox.demo

bench: venv
	$(PY) -m bench

# The same figures in bounded time (scaled clocks, no fresh sam build): see bench/__main__.py.
bench-quick: venv
	BENCH_QUICK=1 $(PY) -m bench

lock:
	uv pip compile --universal --python-version 3.13 --generate-hashes -q requirements/runtime.in -o requirements/runtime.txt
	uv pip compile --universal --python-version 3.13 --generate-hashes -q requirements/dev.in -o requirements/dev.txt
	uv pip compile --python-version 3.13 --generate-hashes -q requirements/sam.in -o requirements/sam.txt
	cp requirements/runtime.txt shared/requirements.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .mypy_cache .ruff_cache
