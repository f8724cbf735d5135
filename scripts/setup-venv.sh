#!/usr/bin/env bash
# Creates .venv (Python virtual environment) with the notebooks' packages,
# pinned in notebooks/requirements.txt, from PyPI. Idempotent: it reinstalls
# only when the requirements file changed. Installs python3-venv through apt
# when the venv module is missing and we are root.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
    echo "error: $python not found; install Python 3 (apt-get install -y python3 python3-venv)" >&2
    exit 1
fi
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: the Python venv module is missing; run as root, or: sudo apt-get install -y python3-venv" >&2
        exit 1
    fi
    echo "installing python3-venv" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
fi

requirements=notebooks/requirements.txt
stamp=.venv/.requirements.sha256
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
    echo "installing the notebook packages into .venv" >&2
    .venv/bin/python -m pip install --disable-pip-version-check --quiet -r "$requirements"
    echo "$wanted" > "$stamp"
fi
