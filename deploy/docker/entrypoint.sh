#!/bin/sh
# The node's container entry point: puts the secrets the orchestrator mounted where the node reads them, then becomes
# the node (exec: it receives SIGTERM itself, leaves the cluster and stops).
set -eu
data="${XCR_NODE_DATA:?XCR_NODE_DATA: the node's data directory}"
mkdir -p "$data"
chmod 0700 "$data"
# Every node of a cluster must hold the same DIR/cluster.key: it unseals the pools' credentials in the journal.
if [ -n "${XCR_CLUSTER_KEY_FILE:-}" ]; then
    install -m 0600 "$XCR_CLUSTER_KEY_FILE" "$data/cluster.key"
fi
# One API token for every node, so xcr reaches any of them through one address (a Service) with it.
if [ -n "${XCR_API_TOKEN_FILE:-}" ]; then
    install -m 0600 "$XCR_API_TOKEN_FILE" "$data/token"
fi
# The listeners are on every address: other nodes and xcr reach this one by its host name unless told otherwise.
XCR_NODE_PUBLIC_HOSTNAME="${XCR_NODE_PUBLIC_HOSTNAME:-${HOSTNAME:-$(cat /proc/sys/kernel/hostname)}}"
export XCR_NODE_PUBLIC_HOSTNAME
exec xcr-node "$@"
