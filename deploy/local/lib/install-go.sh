# shellcheck shell=bash
# Builds Go programs from the Go module proxy into the version-keyed tool cache.
# Each tool gets a throwaway module under $KLAGG_CACHE/build/<tool>-<version>/ (never in the repository).

# go_env_check: Go is needed only to build; name the missing toolchain clearly.
go_env_check() {
  command -v go >/dev/null || die "Go toolchain not found: install it (Debian 'golang' is too old; use the machine's Go >= 1.26)"
}

# go_tool_build NAME VERSION BINDIR MAIN_GO_OR_EMPTY GO_MOD_BODY LDFLAGS PKG...
# Writes go.mod (+ main.go when given), resolves dependencies, builds PKG... into BINDIR atomically.
go_tool_build() {
  local name=$1 version=$2 bindir=$3 main_go=$4 gomod=$5 ldflags=$6
  shift 6
  go_env_check
  local dir="$KLAGG_CACHE/build/$name-$version" log="$KLAGG_CACHE/build/$name-$version.log"
  mkdir -p "$KLAGG_CACHE/build"
  # One build per tool at a time (a prefetching `install` may race an `up`); the loser reuses the result.
  exec 8>"$KLAGG_CACHE/build/$name-$version.lock"
  flock 8
  if [[ -d $bindir ]]; then
    exec 8>&-
    return 0
  fi
  rm -rf "$dir" && mkdir -p "$dir"
  printf '%s\n' "$gomod" >"$dir/go.mod"
  if [[ -n $main_go ]]; then
    mkdir -p "$dir/cmd/$name"
    printf '%s\n' "$main_go" >"$dir/cmd/$name/main.go"
  fi
  info "building $name $version from the Go module proxy (log: $log)"
  local tmp="$bindir.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  if ! (cd "$dir" && export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 &&
    if [[ -n $main_go ]]; then go mod tidy; else go get "$@"; fi >"$log" 2>&1 &&
    go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp/" "$@" >>"$log" 2>&1); then
    rm -rf "$tmp"
    exec 8>&-
    tail -n 30 "$log" >&2
    die "install failed: could not build $name $version (packages: $*) from the Go module proxy; see $log"
  fi
  rm -rf "$bindir" && mkdir -p "$(dirname "$bindir")" && mv "$tmp" "$bindir"
  exec 8>&-
}

# install_kube: kube-apiserver and kubectl from k8s.io/kubernetes, each staging module pinned by a replace
# line, version stamped so /version and `kubectl version` report KUBE_VERSION.
install_kube() {
  local bindir="$KLAGG_CACHE/tools/kube-$KUBE_VERSION/bin"
  [[ -x $bindir/kube-apiserver && -x $bindir/kubectl ]] && return 0
  local staging="api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
    cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api cri-client
    cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt kms kube-aggregator
    kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics mount-utils pod-security-admission
    sample-apiserver sample-cli-plugin sample-controller streaming"
  local gomod="module klagg.local/tools/kube

go 1.26.0

require k8s.io/kubernetes $KUBE_VERSION

replace (" m
  for m in $staging; do gomod+=$'\n'"	k8s.io/$m => k8s.io/$m $KUBE_STAGING_VERSION"; done
  gomod+=$'\n)'
  local v=${KUBE_VERSION#v} major minor
  major=${v%%.*} minor=${v#*.} minor=${minor%%.*}
  local ld="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z -X $p.gitCommit=klagg-$KUBE_VERSION"
  done
  go_tool_build kube "$KUBE_VERSION" "$bindir" "" "$gomod" "$ld" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
}

# install_etcd: etcd server via go.etcd.io/etcd/server/v3/etcdmain (the same entry point the etcd binary uses).
install_etcd() {
  local bindir="$KLAGG_CACHE/tools/etcd-$ETCD_VERSION/bin"
  [[ -x $bindir/etcd ]] && return 0
  local gomod="module klagg.local/tools/etcd

go 1.26.0

require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
  local main='package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }'
  go_tool_build etcd "$ETCD_VERSION" "$bindir" "$main" "$gomod" \
    "-X go.etcd.io/etcd/api/v3/version.GitSHA=klagg" ./cmd/etcd
}

# install_helm: the helm 3 CLI.
install_helm() {
  local bindir="$KLAGG_CACHE/tools/helm-$HELM_VERSION/bin"
  [[ -x $bindir/helm ]] && return 0
  local gomod="module klagg.local/tools/helm

go 1.26.0

require helm.sh/helm/v3 $HELM_VERSION"
  go_tool_build helm "$HELM_VERSION" "$bindir" "" "$gomod" \
    "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" helm.sh/helm/v3/cmd/helm
}

# install_jaeger: the Jaeger v2 binary (OpenTelemetry-collector based), all-in-one with in-memory storage.
install_jaeger() {
  local bindir="$KLAGG_CACHE/tools/jaeger-$JAEGER_VERSION/bin"
  [[ -x $bindir/jaeger ]] && return 0
  local gomod="module klagg.local/tools/jaeger

go 1.26.0

require github.com/jaegertracing/jaeger $JAEGER_VERSION"
  go_tool_build jaeger "$JAEGER_VERSION" "$bindir" "" "$gomod" "" github.com/jaegertracing/jaeger/cmd/jaeger
}
