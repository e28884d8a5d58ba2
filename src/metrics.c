/*
 * Metrics registry and Prometheus text rendering (metrics.h). Storage is
 * allocated per metric at registration; observing only indexes arrays.
 * Rendering writes through a bounded writer that refuses what does not fit,
 * so a too-small buffer gives LIMIT_MSG_SIZE, never an overflow.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "mem.h"

/* Bytes of a rendered value: a signed 64-bit number, or an unsigned one with
 * up to 19 decimals after the point. */
#define VALUE_BYTES 48u
/* Bytes of le="..." with its comma and quotes. */
#define LE_BYTES (6u + VALUE_BYTES)
/* Bytes of one series' label text: two labels with escaped values. */
#define LABELS_BYTES (METRICS_LABELS_MAX * (4u + 3u * METRICS_NAME_LEN_MAX))

struct out {
    char *buf;
    size_t len;
    size_t cap;
    bool full;
};

static void out_put(struct out *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_puts(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* Appends s with the escapes of the text format: backslash and newline,
 * and the double quote too inside label values. */
static void out_escaped(struct out *o, const char *s, bool quote)
{
    for (size_t i = 0; s[i] != '\0'; i++) {
        if (s[i] == '\\') {
            out_puts(o, "\\\\");
        } else if (s[i] == '\n') {
            out_puts(o, "\\n");
        } else if (s[i] == '"' && quote) {
            out_puts(o, "\\\"");
        } else {
            out_put(o, &s[i], 1);
        }
    }
}

static bool name_is_valid(const char *name, bool colon_ok)
{
    size_t len = strlen(name);
    if (len == 0 || len > METRICS_NAME_LEN_MAX || (name[0] >= '0' && name[0] <= '9')) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (c == ':' && colon_ok);
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* Digits after the point of a power-of-ten scale (1000 -> 3). */
static uint32_t scale_digits(uint32_t scale)
{
    uint32_t digits = 0;
    uint32_t s = scale;
    while (s > 1) {
        ASSERT(s % 10u == 0);
        s /= 10u;
        digits++;
    }
    return digits;
}

/* Formats v / scale exactly: "2.5", "0.125", "3". */
static void scaled_format(uint64_t v, uint32_t scale, char *text, size_t size)
{
    uint32_t digits = scale_digits(scale);
    uint64_t frac = v % scale;
    int n = snprintf(text, size, "%" PRIu64, v / scale);
    ASSERT(n > 0 && (size_t)n < size);
    if (frac == 0) {
        return;
    }
    while (frac % 10u == 0) {
        frac /= 10u;
        digits--;
    }
    int m = snprintf(text + n, size - (size_t)n, ".%0*" PRIu64, (int)digits, frac);
    ASSERT(m > 0 && (size_t)m < size - (size_t)n);
}

/* Longest escaped value of a label dimension. */
static size_t label_value_bytes_max(const struct metric_label *l)
{
    if (l->values == NULL) {
        return 10; /* decimal of a uint32_t */
    }
    size_t max = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        size_t len = strlen(l->values[i]);
        ASSERT(len <= METRICS_NAME_LEN_MAX);
        max = len > max ? len : max;
    }
    return 2 * max;
}

static void bounds_check(const struct metric_desc *d)
{
    ASSERT(d->bounds != NULL);
    ASSERT(d->bound_count >= 1 && d->bound_count <= METRICS_BUCKETS_MAX);
    for (uint32_t i = 1; i < d->bound_count; i++) {
        ASSERT(d->bounds[i - 1] < d->bounds[i]);
    }
    ASSERT(d->scale >= 1);
    (void)scale_digits(d->scale); /* asserts a power of ten */
}

static void desc_check(const struct metrics *m, const struct metric_desc *d)
{
    ASSERT(name_is_valid(d->name, true));
    ASSERT(d->help != NULL && strlen(d->help) <= METRICS_HELP_LEN_MAX);
    ASSERT(d->type == METRIC_COUNTER || d->type == METRIC_GAUGE || d->type == METRIC_HISTOGRAM);
    ASSERT(d->label_count <= METRICS_LABELS_MAX);
    for (uint32_t i = 0; i < d->label_count; i++) {
        ASSERT(name_is_valid(d->labels[i].key, false));
        ASSERT(strcmp(d->labels[i].key, "le") != 0);
        ASSERT(d->labels[i].count >= 1 && d->labels[i].count <= METRICS_SERIES_MAX);
    }
    if (d->type == METRIC_HISTOGRAM) {
        bounds_check(d);
    }
    for (uint32_t i = 0; i < m->family_count; i++) {
        ASSERT(strcmp(m->families[i].desc.name, d->name) != 0);
    }
}

/* Upper bound of the text of one metric. */
static size_t metric_bytes_max(const struct metric *mt)
{
    const struct metric_desc *d = &mt->desc;
    size_t labels = 2;
    for (uint32_t i = 0; i < d->label_count; i++) {
        labels += strlen(d->labels[i].key) + 4 + label_value_bytes_max(&d->labels[i]);
    }
    size_t line = strlen(d->name) + 8 + labels + LE_BYTES + 1 + VALUE_BYTES + 1;
    size_t lines_per_series = d->type == METRIC_HISTOGRAM ? d->bound_count + 3u : 1u;
    size_t head = 2 * strlen(d->name) + 2 * strlen(d->help) + 32;
    return head + (size_t)mt->series_count * lines_per_series * line;
}

void metrics_init(struct metrics *m, metrics_collect_cb collect_cb, void *ctx)
{
    memset(m, 0, sizeof(*m));
    m->collect_cb = collect_cb;
    m->collect_ctx = ctx;
}

void metrics_close(struct metrics *m)
{
    for (uint32_t i = 0; i < m->family_count; i++) {
        mem_free(m->families[i].values);
        mem_free(m->families[i].gauges);
        mem_free(m->families[i].sums);
        mem_free(m->families[i].counts);
    }
    m->family_count = 0;
}

/* Allocates the storage of mt; false on NOMEM (nothing kept). */
static bool storage_alloc(struct metric *mt)
{
    size_t n = mt->series_count;
    const struct metric_desc *d = &mt->desc;
    if (d->type == METRIC_GAUGE) {
        mt->gauges = mem_calloc(n, sizeof(int64_t));
        return mt->gauges != NULL;
    }
    if (d->type == METRIC_COUNTER) {
        mt->values = mem_calloc(n, sizeof(uint64_t));
        return mt->values != NULL;
    }
    mt->values = mem_calloc(n * (d->bound_count + 1u), sizeof(uint64_t));
    mt->sums = mem_calloc(n, sizeof(uint64_t));
    mt->counts = mem_calloc(n, sizeof(uint64_t));
    if (mt->values == NULL || mt->sums == NULL || mt->counts == NULL) {
        mem_free(mt->values);
        mem_free(mt->sums);
        mem_free(mt->counts);
        return false;
    }
    return true;
}

int metrics_register(struct metrics *m, const struct metric_desc *d, struct metric **out)
{
    ASSERT(m->family_count < METRICS_FAMILIES_MAX);
    desc_check(m, d);
    struct metric *mt = &m->families[m->family_count];
    memset(mt, 0, sizeof(*mt));
    mt->desc = *d;
    uint64_t series = 1;
    for (uint32_t i = 0; i < d->label_count; i++) {
        series *= d->labels[i].count;
        ASSERT(series <= METRICS_SERIES_MAX);
    }
    mt->series_count = (uint32_t)series;
    if (!storage_alloc(mt)) {
        memset(mt, 0, sizeof(*mt));
        return USHER_NOMEM;
    }
    m->family_count++;
    m->render_bytes_max += metric_bytes_max(mt);
    *out = mt;
    return 0;
}

uint32_t metrics_series2(const struct metric *mt, uint32_t i0, uint32_t i1)
{
    ASSERT(mt->desc.label_count == 2);
    ASSERT(i0 < mt->desc.labels[0].count);
    ASSERT(i1 < mt->desc.labels[1].count);
    return i0 * mt->desc.labels[1].count + i1;
}

void metrics_counter_add(struct metric *mt, uint32_t series, uint64_t n)
{
    ASSERT(mt->desc.type == METRIC_COUNTER);
    ASSERT(series < mt->series_count);
    mt->values[series] += n;
}

void metrics_gauge_set(struct metric *mt, uint32_t series, int64_t value)
{
    ASSERT(mt->desc.type == METRIC_GAUGE);
    ASSERT(series < mt->series_count);
    mt->gauges[series] = value;
}

void metrics_gauge_add(struct metric *mt, uint32_t series, int64_t delta)
{
    ASSERT(mt->desc.type == METRIC_GAUGE);
    ASSERT(series < mt->series_count);
    mt->gauges[series] += delta;
}

void metrics_observe(struct metric *mt, uint32_t series, uint64_t value)
{
    const struct metric_desc *d = &mt->desc;
    ASSERT(d->type == METRIC_HISTOGRAM);
    ASSERT(series < mt->series_count);
    uint32_t bucket = 0;
    while (bucket < d->bound_count && value > d->bounds[bucket]) {
        bucket++;
    }
    mt->values[(size_t)series * (d->bound_count + 1u) + bucket]++;
    mt->sums[series] += value;
    mt->counts[series]++;
}

int64_t metrics_value(const struct metric *mt, uint32_t series)
{
    ASSERT(series < mt->series_count);
    if (mt->desc.type == METRIC_GAUGE) {
        return mt->gauges[series];
    }
    ASSERT(mt->desc.type == METRIC_COUNTER);
    ASSERT(mt->values[series] <= (uint64_t)INT64_MAX);
    return (int64_t)mt->values[series];
}

size_t metrics_render_bytes_max(const struct metrics *m)
{
    return m->render_bytes_max;
}

/* Appends the value of label l for index: its string, or the number. */
static void label_value_put(struct out *o, const struct metric_label *l, uint32_t index)
{
    if (l->values != NULL) {
        out_escaped(o, l->values[index], true);
        return;
    }
    char text[16];
    int n = snprintf(text, sizeof(text), "%" PRIu32, index);
    ASSERT(n > 0 && (size_t)n < sizeof(text));
    out_puts(o, text);
}

/* Appends the labels of a series, key="value",... without braces. */
static void labels_put(struct out *o, const struct metric *mt, uint32_t series)
{
    const struct metric_desc *d = &mt->desc;
    ASSERT(d->label_count <= METRICS_LABELS_MAX);
    uint32_t index[METRICS_LABELS_MAX] = { series, 0 };
    if (d->label_count == 2) {
        index[0] = series / d->labels[1].count;
        index[1] = series % d->labels[1].count;
    }
    for (uint32_t i = 0; i < d->label_count; i++) {
        const struct metric_label *l = &d->labels[i];
        if (i > 0) {
            out_puts(o, ",");
        }
        out_puts(o, l->key);
        out_puts(o, "=\"");
        label_value_put(o, l, index[i]);
        out_puts(o, "\"");
    }
}

/* Appends name+suffix{labels[,le="x"]} value\n. labels is the series' label
 * text (may be empty), le NULL when there is none. */
static void sample_put(struct out *o, const char *name, const char *suffix, const char *labels,
                       const char *le, const char *value)
{
    out_puts(o, name);
    out_puts(o, suffix);
    if (labels[0] != '\0' || le != NULL) {
        out_puts(o, "{");
        out_puts(o, labels);
        if (le != NULL) {
            out_puts(o, labels[0] != '\0' ? ",le=\"" : "le=\"");
            out_puts(o, le);
            out_puts(o, "\"");
        }
        out_puts(o, "}");
    }
    out_puts(o, " ");
    out_puts(o, value);
    out_puts(o, "\n");
}

static void histogram_put(struct out *o, const struct metric *mt, uint32_t series,
                          const char *labels)
{
    const struct metric_desc *d = &mt->desc;
    const uint64_t *buckets = &mt->values[(size_t)series * (d->bound_count + 1u)];
    uint64_t cumulative = 0;
    char le[VALUE_BYTES];
    char value[VALUE_BYTES];
    for (uint32_t i = 0; i <= d->bound_count; i++) {
        cumulative += buckets[i];
        if (i < d->bound_count) {
            scaled_format(d->bounds[i], d->scale, le, sizeof(le));
        } else {
            memcpy(le, "+Inf", 5);
        }
        (void)snprintf(value, sizeof(value), "%" PRIu64, cumulative);
        sample_put(o, d->name, "_bucket", labels, le, value);
    }
    ASSERT(cumulative == mt->counts[series]);
    scaled_format(mt->sums[series], d->scale, value, sizeof(value));
    sample_put(o, d->name, "_sum", labels, NULL, value);
    (void)snprintf(value, sizeof(value), "%" PRIu64, mt->counts[series]);
    sample_put(o, d->name, "_count", labels, NULL, value);
}

static void metric_put(struct out *o, const struct metric *mt)
{
    static const char *const type_names[] = { "", "counter", "gauge", "histogram" };
    const struct metric_desc *d = &mt->desc;
    out_puts(o, "# HELP ");
    out_puts(o, d->name);
    out_puts(o, " ");
    out_escaped(o, d->help, false);
    out_puts(o, "\n# TYPE ");
    out_puts(o, d->name);
    out_puts(o, " ");
    out_puts(o, type_names[d->type]);
    out_puts(o, "\n");
    for (uint32_t s = 0; s < mt->series_count && !o->full; s++) {
        char labels_buf[LABELS_BYTES];
        struct out labels = { labels_buf, 0, sizeof(labels_buf) - 1, false };
        labels_put(&labels, mt, s);
        ASSERT(!labels.full);
        labels_buf[labels.len] = '\0';
        char value[VALUE_BYTES];
        if (d->type == METRIC_HISTOGRAM) {
            histogram_put(o, mt, s, labels_buf);
            continue;
        }
        if (d->type == METRIC_GAUGE) {
            (void)snprintf(value, sizeof(value), "%" PRId64, mt->gauges[s]);
        } else {
            (void)snprintf(value, sizeof(value), "%" PRIu64, mt->values[s]);
        }
        sample_put(o, d->name, "", labels_buf, NULL, value);
    }
}

int metrics_render(struct metrics *m, char *buf, size_t cap, size_t *len)
{
    if (m->collect_cb != NULL) {
        m->collect_cb(m->collect_ctx);
    }
    struct out o = { buf, 0, cap, false };
    for (uint32_t i = 0; i < m->family_count && !o.full; i++) {
        metric_put(&o, &m->families[i]);
    }
    if (o.full) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(o.len <= m->render_bytes_max);
    *len = o.len;
    return 0;
}
