"""What a Kong node really runs with, read back after its kong.conf is patched (the shell half runs on the node).

Kong takes each setting from, last wins: its default, kong.conf, then the environment variable ``KONG_<KEY>``
(``kong/conf_loader/parse.lua`` ``overrides`` at 3.9.1; ``kong reload`` and the systemd unit's ``kong prepare``
load the configuration again in their own environment). A ``KONG_TRACING_SAMPLING_RATE`` in the unit, the container
or the shell that starts Kong therefore beats the patched file, silently. The Admin API's ``GET /`` reports the
node's ``configuration`` (``kong/api/routes/kong.lua``): ``tracing_instrumentations`` as a list and
``tracing_sampling_rate`` as a number from 3.2, ``opentelemetry_tracing*`` before. A deprecated alias
(``KONG_OPENTELEMETRY_TRACING*`` on 3.2+) counts only when the new key is set nowhere, and kong-slo sets it in the
file, so the variable that can override the file is ``KONG_`` and the key kong-slo wrote, upper-cased.

``CHECK_EFFECTIVE`` defines ``check_effective NODE URL SECONDS KEY VALUE …``: it reads ``URL/`` on the node itself
(curl, else wget: Kong's Admin API listens on the node's loopback by default) until every key has the value the
file gives it, for at most ``SECONDS`` (new workers take over after a reload), and fails with one line naming the
node, the setting and the variable when they never do. When the Admin API cannot be read at all (no curl or wget,
``admin_listen`` elsewhere or off, an RBAC token) it says so on stderr and lets the patch stand: ``kong-slo
doctor`` reads every node it can reach.
"""

from __future__ import annotations

from kong_slo.kong.tracing import TracingSettings

WAIT_SECONDS = 30
"""How long a node may take after its reload before the settings it reports count as its own."""

CHECK_EFFECTIVE = r"""reported() {  # reported BODY KEY: the key's value in Kong's JSON reply, a list as a,b
  json=$(printf '%s' "$1" | tr -d '\n\r\t'); at="\"$2\" *: *"
  found=$(printf '%s' "$json" | sed -n "s/.*$at\\[\\([^]]*\\)\\].*/\\1/p")
  [ -n "$found" ] || found=$(printf '%s' "$json" | sed -n "s/.*$at\\([^],}]*\\).*/\\1/p")
  printf '%s' "$found" | tr -d '" '
}
differences() {  # differences BODY KEY VALUE ...: each setting Kong runs with otherwise than kong.conf says
  body=$1; shift; out=
  while [ $# -ge 2 ]; do
    have=$(reported "$body" "$1")
    case $2 in
      [0-9]*) same=$(awk -v a="$have" -v b="$2" 'BEGIN { print (a != "" && a + 0 == b + 0) ? 1 : 0 }') ;;
      *) if [ "$have" = "$2" ]; then same=1; else same=0; fi ;;
    esac
    if [ "$same" = 0 ]; then
      var=KONG_$(printf '%s' "$1" | tr '[:lower:]' '[:upper:]')
      out="$out${out:+; }$1 = ${have:-(not reported)}, not kong.conf's $2 ($var in Kong's environment overrides it)"
    fi
    shift 2
  done
  printf '%s' "$out"
}
admin_get() {
  if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 5 "$1/" 2>&1
  elif command -v wget >/dev/null 2>&1; then wget -qO- -T 5 "$1/" 2>&1
  else echo "neither curl nor wget is on the node"; return 127; fi
}
check_effective() {  # check_effective NODE URL SECONDS KEY VALUE ...
  node=$1; url=$2; wait=$3; shift 3; waited=0
  while :; do
    if body=$(admin_get "$url"); then
      diff=$(differences "$body" "$@"); [ -n "$diff" ] || return 0
    else
      diff=
    fi
    [ "$waited" -lt "$wait" ] || break
    sleep 1; waited=$((waited + 1))
  done
  if [ -z "$diff" ]; then
    echo "kong-slo: $node: the settings Kong runs with could not be read back at $url/ on the node" \
      "($(printf '%s' "$body" | head -c 200)); set adminUrl for this node to where its Admin API answers," \
      "or check it with kong-slo doctor" >&2
    return 0
  fi
  echo "kong-slo: $node: Kong runs with $diff; remove the variable from the environment Kong starts in" \
    "(its systemd unit, container or shell) and run pulumi up again" >&2
  return 1
}
"""


def effective_arguments(tracing: TracingSettings) -> list[str]:
    """``KEY VALUE`` pairs for ``check_effective``: the tracing settings as kong.conf now gives them (not
    ``log_level``, which Kong reports as its running log level, changeable through the Admin API)."""
    wanted = tracing.properties()
    return [text for key in (tracing.instrumentations_key, tracing.sampling_rate_key) for text in (key, wanted[key])]
