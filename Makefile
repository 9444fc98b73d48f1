# Developer commands; CI (.ci/run) runs the same checks.
.PHONY: install test test-fast test-fast-both test-sqlite lint format bench

install:
	python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test,lint]'

test:
	.venv/bin/pytest

# The loop to run every few minutes: SQLite, without the slow tests, few generated examples.
test-fast:
	HYPOTHESIS_PROFILE=dev .venv/bin/pytest -m "not slow" --backends sqlite -q

# The same on both databases, before a commit that touches SQL.
test-fast-both:
	HYPOTHESIS_PROFILE=dev .venv/bin/pytest -m "not slow" -q

test-sqlite:
	.venv/bin/pytest --backends sqlite

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

format:
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

# SPEC section 6, side by side with sqlite3, sqlite-utils and psql; writes docs/benchmarks.md.
bench:
	.venv/bin/pip install --quiet -e '.[bench]'
	.venv/bin/python benchmarks/run.py
