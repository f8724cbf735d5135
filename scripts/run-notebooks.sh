#!/usr/bin/env bash
# Executes every notebooks/*.ipynb headless (nbclient) in the .venv that
# scripts/setup-venv.sh creates. Figures go to results/figures/. Exits
# non-zero when a notebook fails to execute. The notebooks on disk are not
# modified: their committed form keeps its outputs cleared.
#   VMEMLAB_RESULTS=DIR   read CSVs from DIR instead of results/
#   VMEMLAB_FIGURES=DIR   write PNGs to DIR instead of results/figures/
#   --check-drawing       run them on notebooks/fixtures/ (synthetic inputs)
#                         and fail if any notebook skips its figure
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
exec .venv/bin/python scripts/run_notebooks.py "$@"
