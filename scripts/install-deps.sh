#!/usr/bin/env bash
# Installs the system packages VMemLab needs (Debian/Ubuntu): libnuma-dev
# for the GuestMemory module. Idempotent; needs root only when something is
# missing.
set -euo pipefail

packages=(libnuma-dev)
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing system packages: ${missing[*]}; run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
