#!/usr/bin/env bash
# Smoke test of the container image: build it from the Dockerfile with podman, run it with a
# published port, and check that it answers PING, turns healthy, runs as a non-root user, and stops
# on SIGTERM with exit code 0 well before the stop timeout. Prints timings and the image size.
# Exits non-zero on the first failure. Needs podman set up by scripts/container/prepare-base.sh.
#
# Usage:  scripts/container/smoke.sh [--rm-image]
#   --rm-image   also remove the image at the end (by default it stays, with its layer cache)
# Environment: IMAGE (default flashkv:test), HOST_PORT (default 16379), PODMAN (default podman).
set -euo pipefail

cd "$(dirname "$0")/../.."
IMAGE="${IMAGE:-flashkv:test}"
HOST_PORT="${HOST_PORT:-16379}"
HTTP_PORT="${HTTP_PORT:-18080}"
PODMAN="${PODMAN:-podman}"
NAME="flashkv-smoke-$$"
RM_IMAGE=0
[ "${1:-}" = "--rm-image" ] && RM_IMAGE=1

log () { printf '[smoke %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail () {
  printf '[smoke %s] FAIL: %s\n' "$(date +%H:%M:%S)" "$*" >&2
  if $PODMAN container exists "$NAME" 2>/dev/null; then
    echo "--- container logs (last 40 lines) ---" >&2
    $PODMAN logs --tail 40 "$NAME" >&2 2>&1 || true
  fi
  exit 1
}
now () { date +%s.%N; }
# Without systemd, podman 4.3 logs an error for each health-check timer it cannot add or remove
# (checks still run by hand with `podman healthcheck run`); drop those lines, keep the rest.
quiet_podman () {
  local err rc=0
  err="$(mktemp)"
  $PODMAN "$@" 2>"$err" || rc=$?
  grep -v 'unable to get systemd connection' "$err" >&2 || true
  rm -f "$err"
  return "$rc"
}
since () { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

cleanup () {
  quiet_podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  if [ "$RM_IMAGE" = 1 ]; then $PODMAN rmi -f "$IMAGE" >/dev/null 2>&1 || true; fi
  rm -f "${build_log:-}"
}
trap cleanup EXIT

# PING the published port: redis-cli when present, else bash's /dev/tcp.
ping_server () {
  if command -v redis-cli >/dev/null; then
    redis-cli -h 127.0.0.1 -p "$HOST_PORT" PING 2>/dev/null
  else
    local reply=""
    exec 3<>"/dev/tcp/127.0.0.1/$HOST_PORT" 2>/dev/null || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || true
    exec 3>&- 3<&-
    reply="${reply%$'\r'}"
    printf '%s\n' "${reply#+}"
  fi
}

# 1. build
build_log="$(mktemp)"
t0="$(now)"
log "building $IMAGE"
if ! $PODMAN build --pull=never --format docker -t "$IMAGE" . >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  fail "podman build failed"
fi
log "built $IMAGE in $(since "$t0") s"

# 2. the image's configuration
user="$($PODMAN image inspect --format '{{.Config.User}}' "$IMAGE")"
case "$user" in ""|root|0|0:*|root:*) fail "image user is '$user', want a non-root user" ;; esac
hc="$($PODMAN image inspect --format '{{if .Config.Healthcheck}}{{json .Config.Healthcheck.Test}}{{end}}' "$IMAGE")"
[ -n "$hc" ] || fail "image has no HEALTHCHECK (was it built with --format docker?)"
stopsig="$($PODMAN image inspect --format '{{.Config.StopSignal}}' "$IMAGE")"
[ "$stopsig" = SIGTERM ] || fail "image stop signal is '$stopsig', want SIGTERM"
log "image config: user=$user stopsignal=$stopsig healthcheck=$hc"
# The health check must fail where nothing answers on 6379.
mapfile -t hc_cmd < <($PODMAN image inspect --format '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}' "$IMAGE")
[ "${hc_cmd[0]}" = CMD ] || fail "health check is not in exec form: ${hc_cmd[*]}"
hc_rc=0
$PODMAN run --rm --pull=never "$IMAGE" "${hc_cmd[@]:1}" >/dev/null 2>&1 || hc_rc=$?
[ "$hc_rc" = 1 ] || fail "health check with no server running exited $hc_rc, want 1"
log "health check fails as it should with no server"

# 3. run and wait for PONG
$PODMAN rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
t0="$(now)"
quiet_podman run -d --name "$NAME" -p "127.0.0.1:$HOST_PORT:6379" -p "127.0.0.1:$HTTP_PORT:8080" "$IMAGE" >/dev/null || fail "podman run failed"
reply=""
for _ in $(seq 1 150); do
  reply="$(ping_server || true)"
  [ "$reply" = PONG ] && break
  [ "$($PODMAN inspect --format '{{.State.Running}}' "$NAME")" = true ] || fail "container exited early"
  sleep 0.2
done
[ "$reply" = PONG ] || fail "no PONG on 127.0.0.1:$HOST_PORT within 30 s (last reply: '$reply')"
log "PONG on 127.0.0.1:$HOST_PORT $(since "$t0") s after podman run"
if command -v redis-cli >/dev/null; then
  redis-cli -p "$HOST_PORT" SET smoke:key hello >/dev/null
  [ "$(redis-cli -p "$HOST_PORT" GET smoke:key)" = hello ] || fail "SET/GET round trip failed"
  log "SET/GET round trip ok"
  # The image's Node must serve clients below the stream layer (src/server/socket-io.ts).
  io=$(redis-cli -p "$HOST_PORT" INFO shards | tr -d '\r' | sed -n 's/^client_io://p')
  [ "$io" = handle ] || fail "INFO shards client_io is '$io', expected handle on the image's Node"
  log "client_io: $io"
fi

# 3b. HTTP: /healthz, /readyz, and /metrics whose per-shard key counts move when keys are written
http_get () { node -e "fetch('http://127.0.0.1:$HTTP_PORT$1').then(async r => { process.stdout.write(await r.text()); process.exit(r.status === 200 ? 0 : 1) }, () => process.exit(2))"; }
http_get /healthz >/dev/null || fail "/healthz did not answer 200"
http_get /readyz >/dev/null || fail "/readyz did not answer 200"
keys_metric () { http_get /metrics | awk '/^flashkv_shard_keys\{/ { s += $2 } END { print s + 0 }'; }
before="$(keys_metric)"
if command -v redis-cli >/dev/null; then
  for i in $(seq 1 50); do echo "SET smoke:m:$i v"; done | redis-cli -p "$HOST_PORT" >/dev/null
  after="$before"
  for _ in $(seq 1 20); do after="$(keys_metric)"; [ "$after" -ge $((before + 50)) ] && break; sleep 0.1; done
  [ "$after" -ge $((before + 50)) ] || fail "flashkv_shard_keys did not grow by 50 (before $before, after $after)"
  log "/metrics flashkv_shard_keys: $before -> $after after 50 SETs"
fi
log "/healthz and /readyz answer 200"

# 4. health: podman runs health checks from systemd timers, which this host may not have, so
# run the check by hand until podman records the state as healthy.
health_status () {
  # podman 4.3 calls it .State.Healthcheck; newer versions also .State.Health
  $PODMAN inspect --format '{{.State.Healthcheck.Status}}' "$NAME" 2>/dev/null \
    || $PODMAN inspect --format '{{.State.Health.Status}}' "$NAME"
}
status=""
for _ in $(seq 1 10); do
  quiet_podman healthcheck run "$NAME" >/dev/null || true
  status="$(health_status)"
  [ "$status" = healthy ] && break
  sleep 1
done
[ "$status" = healthy ] || fail "health status is '$status', want healthy"
log "health: $status"

# 5. not root
uid="$($PODMAN exec "$NAME" id -u)"
[ "$uid" != 0 ] || fail "container process runs as root"
pid1="$($PODMAN top "$NAME" pid user args | awk '$1 == 1 { $1 = ""; sub(/^ +/, ""); print }')"
case "$pid1" in "") fail "no PID 1 in podman top" ;; root\ *|0\ *) fail "PID 1 runs as root: $pid1" ;; esac
log "runs as uid $uid; PID 1: $pid1"

# 6. graceful stop
t0="$(now)"
quiet_podman stop -t 10 "$NAME" >/dev/null || fail "podman stop failed"
stop_s="$(since "$t0")"
code="$($PODMAN inspect --format '{{.State.ExitCode}}' "$NAME")"
[ "$code" = 0 ] || fail "exit code after podman stop is $code, want 0 (SIGTERM not handled?)"
awk -v s="$stop_s" 'BEGIN { exit !(s < 2) }' || fail "podman stop took $stop_s s, want under 2 s (it waits 10 s before SIGKILL)"
logs="$($PODMAN logs "$NAME" 2>&1)"
grep -q '"signal":"SIGTERM"' <<< "$logs" || fail "no SIGTERM shutdown line in the logs"
log "podman stop -t 10: exit code $code after $stop_s s"

# 7. size
# The listening settings come from variables (-e FLASHKV_PORT, _BIND, _HTTP_PORT), and the health
# check follows the port and the password.
NAME2="flashkv-smoke-env-$$"
trap 'cleanup; quiet_podman rm -f -t 0 "$NAME2" >/dev/null 2>&1 || true' EXIT
quiet_podman run -d --name "$NAME2" -p "127.0.0.1:$HOST_PORT:7000" -p "127.0.0.1:$HTTP_PORT:9090" \
  -e FLASHKV_PORT=7000 -e FLASHKV_HTTP_PORT=9090 -e FLASHKV_REQUIREPASS=smoke-pass "$IMAGE" >/dev/null || fail "podman run (env) failed"
reply=""
for _ in $(seq 1 150); do
  if command -v redis-cli >/dev/null; then reply="$(redis-cli -p "$HOST_PORT" --no-auth-warning -a smoke-pass PING 2>/dev/null || true)"
  else reply="$(ping_server || true)"; fi
  [ "$reply" = PONG ] || [ "$reply" = "-NOAUTH Authentication required." ] && break
  [ "$($PODMAN inspect --format '{{.State.Running}}' "$NAME2")" = true ] || fail "container (env) exited early"
  sleep 0.2
done
[ -n "$reply" ] || fail "no answer on container port 7000 (FLASHKV_PORT)"
http_get /healthz >/dev/null || fail "/healthz did not answer 200 on container port 9090 (FLASHKV_HTTP_PORT)"
status=""
for _ in $(seq 1 10); do
  quiet_podman healthcheck run "$NAME2" >/dev/null || true
  status="$($PODMAN inspect --format '{{.State.Healthcheck.Status}}' "$NAME2" 2>/dev/null || $PODMAN inspect --format '{{.State.Health.Status}}' "$NAME2")"
  [ "$status" = healthy ] && break
  sleep 1
done
[ "$status" = healthy ] || fail "with FLASHKV_PORT=7000 and a password the health status is '$status', want healthy"
quiet_podman rm -f -t 2 "$NAME2" >/dev/null 2>&1 || true
log "-e FLASHKV_PORT=7000 FLASHKV_HTTP_PORT=9090 FLASHKV_REQUIREPASS: served there, health $status"

size="$($PODMAN image inspect --format '{{.Size}}' "$IMAGE")"
log "image $IMAGE size: $size bytes ($(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }'))"
log "PASS"
