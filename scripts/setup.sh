#!/usr/bin/env bash
# Installs the system tools the kit needs beyond npm: Debian's Jupyter (for the
# tslab notebooks) and Chromium (for figure export). Installs what is missing
# when run as root with apt-get; otherwise prints exactly what to install.
set -euo pipefail
missing=()
command -v jupyter-nbconvert >/dev/null 2>&1 || missing+=(jupyter-nbconvert)
# The notebook runner drives Debian's python3 with nbclient (execution) and nbconvert (HTML copies).
/usr/bin/python3 -c 'import nbformat, nbclient, nbconvert, jupyter_client, ipykernel' >/dev/null 2>&1 || missing+=(jupyter-client python3-nbclient python3-ipykernel)
# Figure export uses this Chromium through playwright-core (CHROMIUM_PATH overrides; no browser download).
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: Jupyter and Chromium present"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel chromium fonts-dejavu-core >/dev/null
  echo "setup: done"
else
  echo "setup: missing ${missing[*]}" >&2
  echo "setup: install them with:  sudo apt-get install jupyter-nbconvert jupyter-client python3-nbclient python3-ipykernel chromium fonts-dejavu-core" >&2
  exit 1
fi
