#!/bin/sh
# Makes this container's node leave the cluster gracefully (pbm's `cluster leave`), and waits until it is gone from
# the members it lists: its shards and singletons have moved by then. The preStop hook of the Kubernetes StatefulSet;
# `docker exec NODE xcr-node-leave` before stopping a container by hand. Bounded by the grace period of the caller.
set -u
data="${XCR_DATA:-/var/lib/xcr/node}"
# The node's own API on loopback (it listens on every address; the endpoint file names its public host name, which may
# no longer resolve while the pod terminates), its scheme and port from the endpoint file, the token beside it.
address=$(sed -n 's/^akka=//p' "$data/endpoint")
http=$(sed -n 's/^http=//p' "$data/endpoint")
XCR_NODE="${http%%://*}://127.0.0.1:${http##*:}"
export XCR_NODE
if [ -z "$address" ]; then
    echo "xcr-node-leave: no akka= line in $data/endpoint: the node never became ready" >&2
    exit 0
fi
xcr cluster leave "$address" || exit 0
while xcr cluster show 2>/dev/null | grep -q "^$address |"; do
    sleep 2
done
