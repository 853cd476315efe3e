#!/bin/sh
# spoor-healthcheck: exit 0 when spoor-server answers 200 on /ready, 1 otherwise. Installed as
# <prefix>/bin/spoor-healthcheck by build.sh; the image's HEALTHCHECK and the Kubernetes probes
# run it inside the container, so it reads the server's own settings:
#   SPOOR_PORT (7241), SPOOR_HOST (a wildcard or unset means the loopback address), and
#   SPOOR_AUTH_TOKEN: when set, the request carries "Authorization: Bearer <token>". The header
#   goes to curl on its standard input, never on its command line (visible in ps).
# SPOOR_HEALTHCHECK_TIMEOUT (seconds, default 4) bounds the request.
set -u

port=${SPOOR_PORT:-7241}
host=${SPOOR_HOST:-}
host=${host#[}
host=${host%]}
case "$host" in
"" | 0.0.0.0) host=127.0.0.1 ;;
:: | "::0") host="[::1]" ;;
*:*) host="[$host]" ;;
esac
url="http://$host:$port/ready"

if [ -n "${SPOOR_AUTH_TOKEN:-}" ]; then
    printf 'Authorization: Bearer %s\n' "$SPOOR_AUTH_TOKEN"
else
    :
fi | curl --silent --show-error --fail --output /dev/null \
    --max-time "${SPOOR_HEALTHCHECK_TIMEOUT:-4}" --header @- "$url" || exit 1
