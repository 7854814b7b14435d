#!/bin/sh
# Makes the secrets of a cluster in DIR (created 0700), one file each, as the compose file, the Kubernetes
# kustomization and the systemd unit (under /etc/xcr) expect them:
#   cluster.key            the key every node shares (base64 of 32 random bytes): it unseals the pools' credentials
#   api-token              the HTTP API's bearer token, the same on every node (containers install it as DIR/token)
#   postgres-password      the journal database's password
#   cluster-cert.pfx       the certificate every node presents on Akka remoting (mutual TLS), with its key
#   cluster-cert-password  the password of cluster-cert.pfx
# Usage: deploy/make-secrets.sh DIR. An existing file is kept: run it again to add what is missing only.
set -eu
dir="${1:?usage: make-secrets.sh DIR}"
umask 077
mkdir -p "$dir"
cd "$dir"
[ -e cluster.key ] || openssl rand -base64 32 > cluster.key
[ -e api-token ] || openssl rand -hex 32 > api-token
[ -e postgres-password ] || openssl rand -hex 24 > postgres-password
[ -e cluster-cert-password ] || openssl rand -hex 24 > cluster-cert-password
if [ ! -e cluster-cert.pfx ]; then
    # Self-signed, shared by every node: peers are admitted when they present this very certificate. With a CA
    # instead, give each node its own leaf and XCR_NODE_CLUSTER_CA (see deploy/README.md).
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 -subj "/CN=xcr-cluster" \
        -keyout cluster-cert.key -out cluster-cert.pem 2>/dev/null
    openssl pkcs12 -export -in cluster-cert.pem -inkey cluster-cert.key -name xcr-cluster \
        -passout file:cluster-cert-password -out cluster-cert.pfx
    rm -f cluster-cert.key
fi
ls -l "$PWD"
