# The two commands of the README. Both set up ./.venv themselves (idempotent).
.PHONY: demo test lint bench wheel

demo:  ## the main job, fully offline: SmolLM2 on a generated task, then the HTML report
	scripts/setup.sh demo
	.venv/bin/hotmess demo --out hotmess-demo

test:  ## the whole test suite, slow end-to-end paths included, plus lint and types
	scripts/setup.sh test
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy
	HF_HUB_OFFLINE=1 .venv/bin/python -m pytest -q
	$(MAKE) wheel

wheel:  ## build the wheel that publishing would upload, and check what is inside it
	rm -rf dist
	.venv/bin/python -m pip wheel --no-deps -q -w dist .
	.venv/bin/python scripts/check_wheel.py dist/hotmess-*.whl

lint:
	.venv/bin/ruff check src tests benchmarks && .venv/bin/ruff format --check src tests benchmarks && .venv/bin/mypy

bench:  ## every benchmark, each printing our code beside its baseline
	scripts/setup.sh test
	.venv/bin/pip install -q -c constraints.txt -e ".[bench]"
	for f in benchmarks/bench_*.py; do .venv/bin/python $$f; done
