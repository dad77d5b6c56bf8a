# Installs what the two README commands need when it is missing: uv (from PyPI), a Java 17
# runtime and Maven (for the Apache Kafka broker). Sourced by scripts/run and scripts/test.

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
