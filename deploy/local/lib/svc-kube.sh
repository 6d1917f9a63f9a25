# shellcheck shell=bash
# etcd + kube-apiserver, run the way controller-runtime's envtest does: our own CA, a serving cert for
# 127.0.0.1, service-account signing keys, RBAC authorization, and a client-certificate admin user in
# system:masters. No controllers or kubelet: objects are stored and served, pods never run.
# kubectl and helm (pinned in versions.env) are installed alongside and linked into $KLAGG_CACHE/bin.

kube_procs() { echo etcd kube-apiserver; }
kube_ports() { echo "$ETCD_CLIENT_PORT $ETCD_PEER_PORT $KUBE_APISERVER_PORT"; }
kube_version() { echo "kube-apiserver $KUBE_VERSION, etcd $ETCD_VERSION, helm $HELM_VERSION"; }
kube_install() {
  install_etcd
  install_kube
  install_helm
  link_tools
}

# link_tools: the pinned kubectl and helm on PATH via $KLAGG_CACHE/bin (what `env` prepends).
link_tools() {
  mkdir -p "$KLAGG_CACHE/bin"
  local t
  for t in "kube-$KUBE_VERSION/bin/kubectl" "kube-$KUBE_VERSION/bin/kube-apiserver" "helm-$HELM_VERSION/bin/helm" \
    "etcd-$ETCD_VERSION/bin/etcd"; do
    [[ -x $KLAGG_CACHE/tools/$t ]] && ln -sfn "$KLAGG_CACHE/tools/$t" "$KLAGG_CACHE/bin/${t##*/}"
  done
  return 0
}

# kube_pki DIR: CA, serving cert, admin client cert and service-account key pair (made once, kept).
kube_pki() {
  local d=$1
  [[ -f $d/admin.crt && -f $d/sa.key ]] && return 0
  command -v openssl >/dev/null || die "openssl not found: install the Debian package 'openssl'"
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=klagg-local-ca"
    openssl req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n' >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile apiserver.ext -out apiserver.crt
    openssl req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=klagg-admin"
    printf 'extendedKeyUsage=clientAuth\n' >admin.ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -extfile admin.ext \
      -out admin.crt
    openssl genrsa -out sa.key 2048
    openssl rsa -in sa.key -pubout -out sa.pub
    rm -f ./*.csr ./*.ext
  ) >"$d/openssl.log" 2>&1 || die "could not create the kube-apiserver certificates with openssl; see $d/openssl.log"
}

kube_kubeconfig() {
  local d=$1 b64="base64 -w0"
  cat >"$RUN_DIR/kube/kubeconfig.tmp" <<YAML
apiVersion: v1
kind: Config
clusters:
  - name: klagg-local
    cluster:
      server: https://127.0.0.1:$KUBE_APISERVER_PORT
      certificate-authority-data: $($b64 "$d/ca.crt")
users:
  - name: klagg-admin
    user:
      client-certificate-data: $($b64 "$d/admin.crt")
      client-key-data: $($b64 "$d/admin.key")
contexts:
  - name: klagg-local
    context:
      cluster: klagg-local
      user: klagg-admin
      namespace: default
current-context: klagg-local
YAML
  mv "$RUN_DIR/kube/kubeconfig.tmp" "$RUN_DIR/kube/kubeconfig"
}

etcd_ready_probe() { http_ok "http://127.0.0.1:$ETCD_CLIENT_PORT/health"; }
apiserver_ready_probe() {
  local d="$RUN_DIR/kube/pki"
  [[ $(curl -fsS --max-time 3 --cacert "$d/ca.crt" --cert "$d/admin.crt" --key "$d/admin.key" \
    "https://127.0.0.1:$KUBE_APISERVER_PORT/readyz" 2>/dev/null) == ok ]]
}

kube_start() {
  local dir="$RUN_DIR/kube" pki="$RUN_DIR/kube/pki"
  kube_pki "$pki"
  kube_kubeconfig "$pki"
  if ! proc_pid etcd >/dev/null; then
    # The cluster starts empty every time. No controller-manager runs, so nothing ever garbage-collects what
    # a run leaves behind (a deleted namespace keeps its Services, and each holds a cluster IP): kept across
    # runs, that state only grows until the service IP range is full and every later Service create fails.
    rm -rf "$dir/etcd"
    mkdir -p "$dir/etcd"
    spawn etcd "$KLAGG_CACHE/tools/etcd-$ETCD_VERSION/bin/etcd" --name klagg --data-dir "$dir/etcd" \
      --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
      --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
      --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
      --initial-cluster "klagg=http://127.0.0.1:$ETCD_PEER_PORT" --unsafe-no-fsync --quota-backend-bytes 2147483648
  fi
  wait_ready etcd 30 etcd_ready_probe
  spawn kube-apiserver "$KLAGG_CACHE/tools/kube-$KUBE_VERSION/bin/kube-apiserver" \
    --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port="$KUBE_APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --client-ca-file="$pki/ca.crt" --authorization-mode=RBAC --allow-privileged=true \
    --service-cluster-ip-range=10.96.0.0/16 --service-account-issuer="https://127.0.0.1:$KUBE_APISERVER_PORT" \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --endpoint-reconciler-type=none --disable-admission-plugins=ServiceAccount --v=1
}

kube_wait() { wait_ready kube-apiserver 180 apiserver_ready_probe; }
kube_stop() {
  stop_proc kube-apiserver 30
  stop_proc etcd 20
}
kube_env() {
  echo "KUBECONFIG=$RUN_DIR/kube/kubeconfig"
  echo "KUBE_APISERVER_URL=https://127.0.0.1:$KUBE_APISERVER_PORT"
  echo "ETCD_ENDPOINTS=http://127.0.0.1:$ETCD_CLIENT_PORT"
}
