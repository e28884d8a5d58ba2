#!/usr/bin/env bash
# bench/cluster-bench.sh: usher-bench against a fresh 3-node usher cluster on
# loopback (docs/BENCHMARKS.md "3-node cluster"), with the group-commit
# figures of the leader of the event's shard taken from its /metrics.
#
#   bench/cluster-bench.sh [SECONDS] [CONNSxINFLIGHT ...]
#   e.g. bench/cluster-bench.sh 10 64x1 64x16
#
# SEATS (100000, at most 262144) sizes the event; SHARDS (4) the cluster. Each
# run's per-second lines are kept in the run folder (bench-N.out, KEEP_TMP=1).
#
# Each variant gets a fresh cluster (a fresh 100,000-seat event), so runs do
# not see each other's sold-out seats. Builds nothing: run after
# ./quickstart demo or make in build/. Every process it starts is stopped on
# exit; its folders are removed unless KEEP_TMP=1.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SECONDS_RUN=${1:-10}
shift || true
VARIANTS=("$@")
if [ "${#VARIANTS[@]}" -eq 0 ]; then
    VARIANTS=(64x1 64x16)
fi
SHARDS=${SHARDS:-4}
SEATS=${SEATS:-100000}
USHERD=build/src/usherd
BENCH=build/client/usher-bench
for bin in "$USHERD" "$BENCH"; do
    if [ ! -x "$bin" ]; then
        echo "cluster-bench: $bin is missing: build first (./quickstart demo, or make in build/)" >&2
        exit 2
    fi
done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/usher-cbench.XXXXXX")
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]:-}"; do
        [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
    done
    if [ "${KEEP_TMP:-0}" != 1 ]; then
        rm -rf "$DIR"
    fi
}
trap cleanup EXIT

free_ports() {
    python3 -c 'import socket
ss = [socket.socket() for _ in range(9)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])'
}

# Sum over every shard of counter $2 on the /metrics page of $1.
metric_sum() {
    curl -s --max-time 5 "http://$1/metrics" \
        | awk -v name="$2" '$1 ~ "^"name"[{ ]" { s += $2 } END { printf "%d\n", s }'
}

# Sum over every node of usher_node_events_total{kind="$2"} on /metrics of $1.
events_kind() {
    curl -s --max-time 5 "http://$1/metrics" \
        | awk -v kind="$2" '$1 == "usher_node_events_total{kind=\"" kind "\"}" { s += $2 } END { printf "%d\n", s }'
}

run_variant() {
    local conns=$1 inflight=$2 ports n i peers="" cluster
    local -a client raft http
    read -r -a ports < <(free_ports)
    cluster=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
    for n in 1 2 3; do
        i=$(((n - 1) * 3))
        client[n]=127.0.0.1:${ports[i]}
        raft[n]=127.0.0.1:${ports[i + 1]}
        http[n]=127.0.0.1:${ports[i + 2]}
        peers+="${peers:+,}$n=${raft[n]}/${client[n]}"
    done
    PIDS=()
    for n in 1 2 3; do
        "$USHERD" --node-id "$n" --data "$DIR/run$RUN-${conns}x$inflight-node$n" --shards "$SHARDS" \
            --listen "${client[n]}" --raft "${raft[n]}" --http "${http[n]}" \
            --cluster-id "$cluster" --peers "$peers" \
            >"$DIR/run$RUN-${conns}x$inflight-node$n.log" 2>&1 &
        PIDS+=($!)
    done
    for n in 1 2 3; do
        for i in $(seq 201); do
            if curl -sf --max-time 1 "http://${http[n]}/health" >/dev/null; then
                break
            fi
            if [ "$i" = 201 ]; then
                echo "cluster-bench: node $n is not healthy after 20 s:" >&2
                tail -n 5 "$DIR/run$RUN-${conns}x$inflight-node$n.log" >&2
                exit 1
            fi
            sleep 0.1
        done
    done
    local before_e=() before_c=() before_l=()
    for n in 1 2 3; do
        before_e[n]=$(metric_sum "${http[n]}" usher_shard_entries_proposed_total)
        before_c[n]=$(metric_sum "${http[n]}" usher_shard_commands_proposed_total)
        before_l[n]=$(events_kind "${http[n]}" local_answers)
    done
    echo "=== 3 nodes, $SHARDS shards x 3 replicas: usher-bench $conns connections x $inflight in flight, $SECONDS_RUN s ==="
    "$BENCH" --node "${client[1]}" --connections "$conns" --inflight "$inflight" \
        --seconds "$SECONDS_RUN" --seats "$SEATS" | tee "$DIR/bench-$RUN.out" | grep -v "^\[" || true
    local entries=0 commands=0 local_answers=0 e c l
    for n in 1 2 3; do
        e=$(metric_sum "${http[n]}" usher_shard_entries_proposed_total)
        c=$(metric_sum "${http[n]}" usher_shard_commands_proposed_total)
        l=$(events_kind "${http[n]}" local_answers)
        entries=$((entries + e - before_e[n]))
        commands=$((commands + c - before_c[n]))
        local_answers=$((local_answers + l - before_l[n]))
    done
    echo "leader lease: $local_answers commands answered by the leaders without a log entry" \
        "(refusals, replays); $commands went through the log"
    if [ "$entries" -gt 0 ]; then
        echo "group commit: $commands commands in $entries Raft entries" \
            "($((commands / entries)) per entry on average;" \
            "at most 16 entries in flight per shard, entries_in_flight_max)"
    fi
    for n in 1 2 3; do
        kill -TERM "${PIDS[n - 1]}" 2>/dev/null || true
    done
    for n in 1 2 3; do
        wait "${PIDS[n - 1]}" 2>/dev/null || true
    done
    PIDS=()
    echo
}

RUN=0
for v in "${VARIANTS[@]}"; do
    RUN=$((RUN + 1))
    run_variant "${v%x*}" "${v#*x}"
done
