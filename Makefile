.PHONY: serve test test-pg lint types format check migrate seed
serve:
	./scripts/serve
test:
	./scripts/test
test-pg:
	TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres ./scripts/test
lint:
	.venv/bin/ruff check service tests bench migrations scripts
types:
	.venv/bin/mypy service
format:
	.venv/bin/ruff format service tests bench
check:
	bash .ci/run
