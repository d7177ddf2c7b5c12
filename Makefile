# Single entry point for developers. `make help` lists the targets.
.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## run the platform on http://127.0.0.1:8000 with demo data (SQLite unless DATABASE_URL)
	scripts/run

test: ## run the whole test suite (throwaway PostgreSQL unless DATABASE_URL, plus a SQLite smoke run)
	scripts/test

lint: ## ruff, migrations check, OpenAPI drift, check --deploy
	scripts/lint

format: ## format the code with ruff
	scripts/bootstrap && .venv/bin/ruff format . && .venv/bin/ruff check --fix .

schema: ## regenerate docs/openapi.yaml
	scripts/bootstrap && DJANGO_DEBUG=true .venv/bin/python manage.py spectacular --validate --fail-on-warn --file docs/openapi.yaml

lock: ## re-resolve requirements-dev.lock (runtime + dev) and requirements.lock (runtime, same pins) from pyproject.toml
	UV=$$(command -v uv || { scripts/bootstrap >&2 && .venv/bin/python -m pip install -q uv >&2 && echo .venv/bin/uv; }) && \
	$$UV pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 -o requirements-dev.lock && \
	$$UV pip compile pyproject.toml --generate-hashes --python-version 3.11 -c requirements-dev.lock -o requirements.lock

ci: ## what CI runs
	.ci/run

.PHONY: help run test lint format schema lock ci
