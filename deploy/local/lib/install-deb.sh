# shellcheck shell=bash
# Installs Debian packages with apt-get, without letting the package start its system-wide service
# (ours run from the run directory on their own ports).

# deb_install PACKAGE...: installs the packages that are missing.
deb_install() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "install failed: apt-get not found; install the Debian packages ${missing[*]} by hand"
  local log created_policy=""
  log="$KLAGG_CACHE/build/apt-$(date +%s).log"
  mkdir -p "$KLAGG_CACHE/build"
  info "installing Debian packages ${missing[*]} with apt-get (log: $log)"
  local sudo=""
  ((EUID == 0)) || sudo=sudo
  # policy-rc.d exit 101 = "do not start services": the standard Debian way to install a daemon inert.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null && $sudo chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  local rc=0
  {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" ||
      { $sudo apt-get update -q && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}"; }
  } >"$log" 2>&1 || rc=$?
  [[ -n $created_policy ]] && $sudo rm -f /usr/sbin/policy-rc.d
  if ((rc != 0)); then
    tail -n 20 "$log" >&2
    die "install failed: apt-get could not install ${missing[*]} from the Debian archive; see $log"
  fi
}

# deb_version PACKAGE: the installed version, or "not installed".
deb_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || printf 'not installed'; }
