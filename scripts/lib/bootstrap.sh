# Installs what the two README commands need when it is missing: uv (from PyPI), a Java 17
# runtime and Maven (for the Apache Kafka broker), the web's npm assets, Chromium for the browser
# tests. Sourced by scripts/run and scripts/test.

ensure_tools() {
  export PATH="$HOME/.local/bin:$PATH"
  if ! command -v uv >/dev/null 2>&1; then
    echo "installing uv (Python package manager) from PyPI ..." >&2
    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  fi
  local missing=()
  command -v java >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  if [ "${#missing[@]}" -gt 0 ] && [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing ${missing[*]} with apt-get ..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "missing: ${missing[*]}. Install Java 17 and Maven, or set KAFKA_BOOTSTRAP_SERVERS." >&2
      exit 1
    fi
  fi
}

# The web workspace's browser assets (GOV.UK Frontend, htmx, Chart.js; axe-core for the tests),
# pinned in services/web/package-lock.json: `npm ci` when the lock file changed since the last
# install, then the style sheet built with Sass. Node and npm come from apt when missing.
ensure_web_assets() {
  local web=services/web
  if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing nodejs and npm with apt-get ..." >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
      echo "missing: npm (Node.js). Install Node.js 18 or newer with npm." >&2
      exit 1
    fi
  fi
  local stamp=$web/node_modules/.icam-installed-lock
  if [ ! -f "$stamp" ] || ! cmp -s "$web/package-lock.json" "$stamp"; then
    echo "installing the web's npm packages (npm ci) ..." >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && cp "$web/package-lock.json" "$stamp"
  fi
  if [ ! -f "$web/build/icam.css" ] || [ "$web/styles/icam.scss" -nt "$web/build/icam.css" ] \
    || [ "$stamp" -nt "$web/build/icam.css" ]; then
    (cd "$web" && npm run --silent build)
  fi
}

# Debian's Chromium for the browser tests (Playwright's own browser download is not used).
ensure_browser() {
  if [ -n "${ICAM_CHROMIUM:-}" ] || [ -x /usr/bin/chromium ]; then
    return
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium with apt-get (browser tests) ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "missing: /usr/bin/chromium for the browser tests. Install Debian's chromium or set ICAM_CHROMIUM." >&2
    exit 1
  fi
}
