/*
 * Metrics registry rendered as Prometheus text (exposition format 0.0.4).
 *
 * A metric (one family: a name, a help line, a type) has a fixed set of
 * series chosen at registration: no label, one label (e.g. shard 0..15), or
 * two (e.g. shard x reason). Every series' storage is allocated when the
 * metric is registered, so observing never allocates and never fails:
 *
 *   metric       series index                label values
 *   ----------   -------------------------   ---------------------------
 *   no label     0                           -
 *   one label    i0                          labels[0].values[i0] or "i0"
 *   two labels   i0 * labels[1].count + i1   both, in that order
 *
 * Histograms have fixed bucket bounds (at most METRICS_BUCKETS_MAX) and keep
 * integer observations. A histogram's `scale` divides what is shown: record
 * latencies in microseconds with scale 1000, and the buckets, "le" and
 * "_sum" read in milliseconds ("0.25", "2.5") with exact decimals.
 *
 *   # HELP usher_apply_ms Time from submit to apply.
 *   # TYPE usher_apply_ms histogram
 *   usher_apply_ms_bucket{shard="0",le="0.25"} 3
 *   ...
 *   usher_apply_ms_bucket{shard="0",le="+Inf"} 7
 *   usher_apply_ms_sum{shard="0"} 4.125
 *   usher_apply_ms_count{shard="0"} 7
 *
 * Single-threaded: the loop thread observes and renders.
 */
#ifndef USHER_SRC_METRICS_H
#define USHER_SRC_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Metrics in one registry (families, not series). */
#define METRICS_FAMILIES_MAX 128u

/* Series of one metric (product of its label counts). 1024 shards x 64
 * reasons fits. */
#define METRICS_SERIES_MAX 65536u

/* Bucket bounds of one histogram (+Inf is implicit). */
#define METRICS_BUCKETS_MAX 32u

/* Label dimensions of one metric. */
#define METRICS_LABELS_MAX 2u

/* Bytes of a metric name, label key or label value, without NUL. */
#define METRICS_NAME_LEN_MAX 64u

/* Bytes of a help line, without NUL. */
#define METRICS_HELP_LEN_MAX 256u

/* Latency buckets in microseconds (scale 1000 shows them in ms):
 * 0.1 0.25 0.5 1 2.5 5 10 25 50 100 250 500 1000 2500 5000 10000 ms. */
#define METRICS_LATENCY_BUCKETS_US                                                            \
    100u, 250u, 500u, 1000u, 2500u, 5000u, 10000u, 25000u, 50000u, 100000u, 250000u, 500000u, \
        1000000u, 2500000u, 5000000u, 10000000u
#define METRICS_LATENCY_BUCKET_COUNT 16u

enum metric_type {
    METRIC_COUNTER = 1,
    METRIC_GAUGE = 2,
    METRIC_HISTOGRAM = 3,
};

/* One label dimension: key, and either count value strings or, when values
 * is NULL, the decimal numbers 0..count-1. Borrowed for the registry's life
 * (use literals). */
struct metric_label {
    const char *key;
    uint32_t count;
    const char *const *values;
};

/* What a metric is. Strings are borrowed for the registry's life. */
struct metric_desc {
    const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* */
    const char *help; /* one line */
    enum metric_type type;
    uint32_t label_count; /* 0..METRICS_LABELS_MAX */
    struct metric_label labels[METRICS_LABELS_MAX];
    /* Histograms only: strictly increasing bounds, in observation units. */
    const uint64_t *bounds;
    uint32_t bound_count; /* 1..METRICS_BUCKETS_MAX */
    uint32_t scale;       /* shown value = observed / scale; 1, 10, 100, 1000, ... */
};

/* A registered metric; owned by its registry. */
struct metric {
    struct metric_desc desc;
    uint32_t series_count;
    uint64_t *values; /* counters: one per series; histograms: bound_count + 1 per series */
    int64_t *gauges;  /* gauges: one per series */
    uint64_t *sums;   /* histograms: per series */
    uint64_t *counts; /* histograms: per series */
};

typedef void (*metrics_collect_cb)(void *ctx);

struct metrics {
    struct metric families[METRICS_FAMILIES_MAX];
    uint32_t family_count;
    size_t render_bytes_max; /* bound on the rendered text, kept by register */
    metrics_collect_cb collect_cb;
    void *collect_ctx;
};

/* Initialises an empty registry. collect_cb (may be NULL) is called by
 * metrics_render() first, to refresh gauges that are read, not pushed. */
void metrics_init(struct metrics *m, metrics_collect_cb collect_cb, void *ctx);

/* Frees every metric's storage. */
void metrics_close(struct metrics *m);

/*
 * Registers a metric described by d (copied; its strings and bounds are
 * borrowed for the registry's life) and returns it in *out. A malformed
 * description (bad name, duplicate name, too many series or buckets) is a
 * programmer error and asserts. Returns 0, or NOMEM (nothing registered).
 */
USHER_MUST_CHECK int metrics_register(struct metrics *m, const struct metric_desc *d,
                                      struct metric **out);

/* Series index of label indexes (i0, i1) of a two-label metric. */
uint32_t metrics_series2(const struct metric *mt, uint32_t i0, uint32_t i1);

/* Adds n to a counter series. */
void metrics_counter_add(struct metric *mt, uint32_t series, uint64_t n);

/* Sets a gauge series. */
void metrics_gauge_set(struct metric *mt, uint32_t series, int64_t value);

/* Adds delta (may be negative) to a gauge series. */
void metrics_gauge_add(struct metric *mt, uint32_t series, int64_t delta);

/* Records one observation (in the histogram's units) in a series. */
void metrics_observe(struct metric *mt, uint32_t series, uint64_t value);

/* Current value of a counter or gauge series (tests, status pages). */
int64_t metrics_value(const struct metric *mt, uint32_t series);

/* Upper bound of the rendered text's length, for sizing a buffer. */
size_t metrics_render_bytes_max(const struct metrics *m);

/*
 * Calls the collect callback, then renders every metric into buf[0..cap) in
 * registration order and sets *len. Returns 0, or LIMIT_MSG_SIZE when cap is
 * below what the text needs (cap >= metrics_render_bytes_max() never is).
 */
USHER_MUST_CHECK int metrics_render(struct metrics *m, char *buf, size_t cap, size_t *len);

#endif
