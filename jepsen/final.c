/*
 * Final mode of the workload (workload.h): after the harness healed the
 * cluster, wait until every replica has applied all the cluster committed,
 * then read every event on every replica and append those reads to the
 * history marked "final" (HISTORY.md "Final reads").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define SETTLE_PAUSE_MS 200u
#define STALE_ANY_MS    UINT32_MAX /* a settled replica answers whatever its age */

/* A client that talks to one node only, one attempt per call: a reply is
 * that replica's own. */
static int node_client(const char *node, struct usher_client **out)
{
    struct usher_options uo = {
        .nodes = &node, .node_count = 1, .attempts_max = 1, .call_timeout_ms = 3000
    };
    return usher_client_create(NULL, &uo, out);
}

/* Sets applied[i] to replica i's applied index of the shard of event, and
 * *commit to the largest commit index any replica reports. Returns 0, or
 * the status of the first node that did not answer. */
static int indexes_read(const struct wl_opts *o, uint64_t event, uint64_t *applied,
                        uint64_t *commit, struct usher_node_status *st)
{
    for (uint32_t i = 0; i < o->node_count; i++) {
        struct usher_client *c = NULL;
        int rc = node_client(o->nodes[i], &c);
        if (rc == 0) {
            struct usher_call_opts co = { .node = o->nodes[i] };
            rc = usher_node_status_sync(c, &co, st);
            usher_client_destroy(c, NULL, NULL);
        }
        if (rc != 0) {
            return rc;
        }
        uint32_t shard = usher_event_shard(event, st->shard_count);
        applied[i] = 0;
        for (uint32_t k = 0; k < st->listed; k++) {
            if (st->shards[k].shard == shard) {
                applied[i] = st->shards[k].applied_index;
                *commit =
                    st->shards[k].commit_index > *commit ? st->shards[k].commit_index : *commit;
            }
        }
    }
    return 0;
}

/* Waits until every replica has applied at least the commit index the
 * cluster reported when the wait began: everything acknowledged before. */
static int settle(const struct wl_opts *o, uint64_t event, struct usher_node_status *st)
{
    uint64_t applied[WL_NODES_MAX];
    uint64_t goal = 0;
    uint64_t deadline = uv_hrtime() + (uint64_t)o->settle_s * 1000000000u;
    int rc = 0;
    while (uv_hrtime() < deadline) {
        uint64_t commit = 0;
        rc = indexes_read(o, event, applied, &commit, st);
        if (rc == 0) {
            goal = goal == 0 ? commit : goal;
            uint32_t behind = 0;
            for (uint32_t i = 0; i < o->node_count; i++) {
                behind += applied[i] < goal || goal == 0 ? 1u : 0u;
            }
            if (behind == 0) {
                (void)fprintf(stderr,
                              "{\"progress\": \"settled\", \"event\": %" PRIu64
                              ", \"commit\": %" PRIu64 "}\n",
                              event, goal);
                return 0;
            }
        }
        uv_sleep(SETTLE_PAUSE_MS);
    }
    (void)fprintf(stderr,
                  "usher-jepsen-workload: event %" PRIu64 ": replicas did not catch up with "
                  "commit %" PRIu64 " in %" PRIu32 " s (last: %s)\n",
                  event, goal, o->settle_s, rc == 0 ? "some behind" : usher_errname(rc));
    return 1;
}

/* Reads event on replica i and appends the invoke and its completion. */
static int read_replica(const struct wl_opts *o, struct history *h, uint32_t i, uint64_t event,
                        struct usher_availability *a)
{
    struct jbuf b;
    jbuf_start(&b);
    jbuf_u64(&b, "node", i + 1u);
    struct history_rec r = {
        .process = WL_FINAL_PROC + i,
        .client = 0,
        .type = HISTORY_INVOKE,
        .f = "read",
        .event = event,
        .value = jbuf_end(&b),
    };
    history_write(h, &r);
    struct usher_client *c = NULL;
    int rc = node_client(o->nodes[i], &c);
    if (rc == 0) {
        struct usher_call_opts co = { .max_stale_ms = STALE_ANY_MS };
        rc = usher_availability_sync(c, &co, event, a);
        usher_client_destroy(c, NULL, NULL);
    }
    jbuf_start(&b);
    if (rc == 0) {
        wl_read_value(&b, a, a->seat_count);
        jbuf_u64(&b, "applied_index", a->applied_index);
    } else {
        jbuf_str(&b, "error", usher_errname(rc));
    }
    r.type = rc == 0 ? HISTORY_OK : HISTORY_FAIL;
    r.value = jbuf_end(&b);
    r.final = rc == 0;
    history_write(h, &r);
    if (rc != 0) {
        (void)fprintf(stderr, "usher-jepsen-workload: final read of event %" PRIu64 " on %s: %s\n",
                      event, o->nodes[i], usher_errname(rc));
    }
    return rc == 0 ? 0 : 1;
}

int final_reads(const struct wl_opts *o, struct history *h)
{
    struct usher_node_status *st = malloc(sizeof(*st));
    struct usher_availability *a = malloc(sizeof(*a));
    int rc = st == NULL || a == NULL ? 1 : 0;
    for (uint64_t e = 1; rc == 0 && e <= o->events + 1u; e++) { /* + the keeper's */
        rc = settle(o, e, st);
        for (uint32_t i = 0; rc == 0 && i < o->node_count; i++) {
            rc = read_replica(o, h, i, e, a);
        }
    }
    free(st);
    free(a);
    return rc;
}
