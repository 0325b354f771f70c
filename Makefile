# ggk: one Makefile for set-up, tests, the demo and the benchmarks.
# `make install` is idempotent: it bootstraps uv with pip when missing and syncs .venv from uv.lock.

UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
VENV := .venv
GGK := $(VENV)/bin/ggk
PYTHON := $(VENV)/bin/python
export GGK_TEST_POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: install system-deps test demo bench lint clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || test -x "$(UV)" || python3 -m pip install --user --quiet uv
	$(UV) sync --frozen --all-groups --compile-bytecode
	@touch $@

# Debian packages the browser and proxy tests need (chromium for page rendering, nginx for the
# TLS-terminating proxy example and the hub benchmark's floor, promtool from prometheus for the
# alert rule tests). Installed only when missing.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || missing="$$missing nginx-light"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "missing system packages:$$missing (tests that need them will skip)"; fi; \
	fi

test: install system-deps
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/pytest

demo: install
	$(GGK) pilot --data-dir ./pilot-data

bench: install
	$(PYTHON) bench/validate.py
	@for b in bench/hub.py bench/hub_ceiling.py bench/station.py bench/mirror.py bench/publication.py bench/scale.py; do \
	  if [ -f $$b ]; then $(PYTHON) $$b || exit 1; fi; done

lint: install
	$(VENV)/bin/ruff check src tests bench

clean:
	rm -rf $(VENV) pilot-data .pytest_cache
