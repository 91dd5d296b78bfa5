# Shared set-up for the quick-start commands. Each step is idempotent and fast when already done.
# shellcheck shell=bash

KIVETT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$KIVETT_ROOT/.venv"

say() { printf '\033[1m[kivett]\033[0m %s\n' "$*" >&2; }

ensure_python_env() {
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment (.venv)"
    python3 -m venv "$VENV"
  fi
  local stamp="$VENV/.kivett-installed" want
  want="$(cat "$KIVETT_ROOT/constraints.txt" "$KIVETT_ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Python packages (pinned in constraints.txt)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      -c "$KIVETT_ROOT/constraints.txt" -e "$KIVETT_ROOT[dev]"
    echo "$want" > "$stamp"
  fi
}

ensure_node_tools() {
  command -v node >/dev/null || { say "node is required (Node.js 20 or newer)"; exit 1; }
  local stamp="$KIVETT_ROOT/node_modules/.kivett-installed" want
  want="$(sha256sum "$KIVETT_ROOT/package-lock.json" | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Microsoft's tools from npm (pinned in package-lock.json)"
    (cd "$KIVETT_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    echo "$want" > "$stamp"
  fi
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return; fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing Debian's chromium for the browser test"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    say "the browser test needs Debian's chromium: run 'sudo apt-get install chromium' first"
    exit 1
  fi
}
