/*
 * Metrics tests: the exact Prometheus text of a small registry (counters,
 * gauges, histograms, zero, one and two labels, escapes, scaled decimals),
 * bucket boundaries, the render buffer bound, and that observing and
 * rendering allocate nothing (every allocation fails and they still work).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mem.h"
#include "metrics.h"

static const char *const reasons[] = { "SEAT_TAKEN", "SOLD_OUT" };
static const uint64_t latency_bounds[] = { 250, 1000, 2500 };

struct small {
    struct metrics m;
    struct metric *requests;
    struct metric *rejections;
    struct metric *role;
    struct metric *apply;
    struct metric *by_shard_reason;
};

static void small_register(struct small *s)
{
    metrics_init(&s->m, NULL, NULL);
    struct metric_desc requests = { .name = "usher_requests_total",
                                    .help = "Requests served.",
                                    .type = METRIC_COUNTER };
    assert_int_equal(metrics_register(&s->m, &requests, &s->requests), 0);
    struct metric_desc rejections = { .name = "usher_rejections_total",
                                      .help = "Commands rejected, by reason.",
                                      .type = METRIC_COUNTER,
                                      .label_count = 1,
                                      .labels = { { "reason", 2, reasons } } };
    assert_int_equal(metrics_register(&s->m, &rejections, &s->rejections), 0);
    struct metric_desc role = { .name = "usher_shard_role",
                                .help = "Raft role of the shard.",
                                .type = METRIC_GAUGE,
                                .label_count = 1,
                                .labels = { { "shard", 2, NULL } } };
    assert_int_equal(metrics_register(&s->m, &role, &s->role), 0);
    struct metric_desc apply = { .name = "usher_apply_ms",
                                 .help = "Submit to apply, in ms.",
                                 .type = METRIC_HISTOGRAM,
                                 .label_count = 1,
                                 .labels = { { "shard", 1, NULL } },
                                 .bounds = latency_bounds,
                                 .bound_count = 3,
                                 .scale = 1000 };
    assert_int_equal(metrics_register(&s->m, &apply, &s->apply), 0);
    struct metric_desc two = { .name = "usher_shard_rejections_total",
                               .help = "Rejections per shard and reason.",
                               .type = METRIC_COUNTER,
                               .label_count = 2,
                               .labels = { { "shard", 2, NULL }, { "reason", 2, reasons } } };
    assert_int_equal(metrics_register(&s->m, &two, &s->by_shard_reason), 0);
}

static const char small_text[] =
    "# HELP usher_requests_total Requests served.\n"
    "# TYPE usher_requests_total counter\n"
    "usher_requests_total 3\n"
    "# HELP usher_rejections_total Commands rejected, by reason.\n"
    "# TYPE usher_rejections_total counter\n"
    "usher_rejections_total{reason=\"SEAT_TAKEN\"} 0\n"
    "usher_rejections_total{reason=\"SOLD_OUT\"} 2\n"
    "# HELP usher_shard_role Raft role of the shard.\n"
    "# TYPE usher_shard_role gauge\n"
    "usher_shard_role{shard=\"0\"} 2\n"
    "usher_shard_role{shard=\"1\"} -1\n"
    "# HELP usher_apply_ms Submit to apply, in ms.\n"
    "# TYPE usher_apply_ms histogram\n"
    "usher_apply_ms_bucket{shard=\"0\",le=\"0.25\"} 2\n"
    "usher_apply_ms_bucket{shard=\"0\",le=\"1\"} 3\n"
    "usher_apply_ms_bucket{shard=\"0\",le=\"2.5\"} 3\n"
    "usher_apply_ms_bucket{shard=\"0\",le=\"+Inf\"} 5\n"
    "usher_apply_ms_sum{shard=\"0\"} 1003.601\n"
    "usher_apply_ms_count{shard=\"0\"} 5\n"
    "# HELP usher_shard_rejections_total Rejections per shard and reason.\n"
    "# TYPE usher_shard_rejections_total counter\n"
    "usher_shard_rejections_total{shard=\"0\",reason=\"SEAT_TAKEN\"} 0\n"
    "usher_shard_rejections_total{shard=\"0\",reason=\"SOLD_OUT\"} 0\n"
    "usher_shard_rejections_total{shard=\"1\",reason=\"SEAT_TAKEN\"} 7\n"
    "usher_shard_rejections_total{shard=\"1\",reason=\"SOLD_OUT\"} 0\n";

static void small_observe(struct small *s)
{
    metrics_counter_add(s->requests, 0, 1);
    metrics_counter_add(s->requests, 0, 2);
    metrics_counter_add(s->rejections, 1, 2);
    metrics_gauge_set(s->role, 0, 5);
    metrics_gauge_add(s->role, 0, -3);
    metrics_gauge_set(s->role, 1, -1);
    metrics_observe(s->apply, 0, 100);     /* 0.1 ms */
    metrics_observe(s->apply, 0, 250);     /* exactly on the 0.25 bound: counts in it */
    metrics_observe(s->apply, 0, 251);     /* just past it: the next bucket */
    metrics_observe(s->apply, 0, 3000);    /* past the last bound: +Inf */
    metrics_observe(s->apply, 0, 1000000); /* 1 s */
    metrics_counter_add(s->by_shard_reason, metrics_series2(s->by_shard_reason, 1, 0), 7);
}

static char *render(struct metrics *m, size_t *len)
{
    size_t cap = metrics_render_bytes_max(m);
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    assert_int_equal(metrics_render(m, buf, cap, len), 0);
    assert_true(*len <= cap);
    buf[*len] = '\0';
    return buf;
}

/* Goal: a small registry renders to exactly the expected text, in
 * registration order, with cumulative buckets, le inclusive, and exact
 * millisecond decimals. */
static void test_metrics_small_registry_exact_text(void **state)
{
    (void)state;
    struct small s;
    small_register(&s);
    small_observe(&s);
    size_t len = 0;
    char *text = render(&s.m, &len);
    assert_string_equal(text, small_text);
    assert_int_equal(len, strlen(small_text));
    assert_int_equal(metrics_value(s.requests, 0), 3);
    assert_int_equal(metrics_value(s.role, 1), -1);
    free(text);
    metrics_close(&s.m);
}

/* Goal: a buffer one byte short of the text is refused with LIMIT_MSG_SIZE
 * and never written past; the exact size works. */
static void test_metrics_render_refuses_a_short_buffer(void **state)
{
    (void)state;
    struct small s;
    small_register(&s);
    small_observe(&s);
    size_t need = strlen(small_text);
    char *buf = malloc(need + 1);
    assert_non_null(buf);
    buf[need - 1] = '#';
    size_t len = 0;
    assert_int_equal(metrics_render(&s.m, buf, need - 1, &len), USHER_LIMIT_MSG_SIZE);
    assert_int_equal(metrics_render(&s.m, buf, need, &len), 0);
    assert_int_equal(len, need);
    assert_memory_equal(buf, small_text, need);
    free(buf);
    metrics_close(&s.m);
}

/* Goal: once registered, observing and rendering allocate nothing: with
 * every allocation failing they still work. */
static void test_metrics_observe_and_render_do_not_allocate(void **state)
{
    (void)state;
    struct small s;
    small_register(&s);
    char buf[4096];
    mem_fault_after(0);
    for (uint32_t i = 0; i < 1000; i++) {
        metrics_counter_add(s.requests, 0, 1);
        metrics_observe(s.apply, 0, i);
        metrics_gauge_add(s.role, i % 2, 1);
    }
    size_t len = 0;
    assert_int_equal(metrics_render(&s.m, buf, sizeof(buf), &len), 0);
    mem_fault_reset();
    assert_int_equal(metrics_value(s.requests, 0), 1000);
    assert_non_null(strstr(buf, "usher_apply_ms_count{shard=\"0\"} 1000\n"));
    metrics_close(&s.m);
}

/* Goal: a registration that cannot allocate returns NOMEM and leaves the
 * registry as it was. */
static void test_metrics_register_nomem_changes_nothing(void **state)
{
    (void)state;
    struct metrics m;
    metrics_init(&m, NULL, NULL);
    struct metric_desc d = { .name = "h",
                             .help = "h",
                             .type = METRIC_HISTOGRAM,
                             .bounds = latency_bounds,
                             .bound_count = 3,
                             .scale = 1 };
    struct metric *mt = NULL;
    for (long after = 0; after < 3; after++) {
        mem_fault_after(after);
        assert_int_equal(metrics_register(&m, &d, &mt), USHER_NOMEM);
        mem_fault_reset();
        assert_int_equal(m.family_count, 0);
        assert_int_equal(metrics_render_bytes_max(&m), 0);
    }
    assert_int_equal(metrics_register(&m, &d, &mt), 0);
    assert_int_equal(m.family_count, 1);
    metrics_close(&m);
}

/* Goal: help text escapes backslash and newline; label values escape
 * backslash, quote and newline. */
static void test_metrics_escapes_help_and_label_values(void **state)
{
    (void)state;
    static const char *const odd[] = { "a\"b\\c\nd" };
    struct metrics m;
    metrics_init(&m, NULL, NULL);
    struct metric_desc d = { .name = "odd:total",
                             .help = "back\\slash \"quoted\"\nnext",
                             .type = METRIC_COUNTER,
                             .label_count = 1,
                             .labels = { { "v", 1, odd } } };
    struct metric *mt = NULL;
    assert_int_equal(metrics_register(&m, &d, &mt), 0);
    size_t len = 0;
    char *text = render(&m, &len);
    assert_string_equal(text, "# HELP odd:total back\\\\slash \"quoted\"\\nnext\n"
                              "# TYPE odd:total counter\n"
                              "odd:total{v=\"a\\\"b\\\\c\\nd\"} 0\n");
    free(text);
    metrics_close(&m);
}

/* Goal: scale 1 shows integers, scale 10 one decimal, and a histogram
 * without labels has le as its only label. */
static void test_metrics_histogram_scales(void **state)
{
    (void)state;
    static const uint64_t sizes[] = { 1, 16, 1024 };
    static const uint64_t tenths[] = { 5, 20 };
    struct metrics m;
    metrics_init(&m, NULL, NULL);
    struct metric_desc batch = { .name = "b",
                                 .help = "B.",
                                 .type = METRIC_HISTOGRAM,
                                 .bounds = sizes,
                                 .bound_count = 3,
                                 .scale = 1 };
    struct metric_desc ten = { .name = "t",
                               .help = "T.",
                               .type = METRIC_HISTOGRAM,
                               .bounds = tenths,
                               .bound_count = 2,
                               .scale = 10 };
    struct metric *b = NULL;
    struct metric *t = NULL;
    assert_int_equal(metrics_register(&m, &batch, &b), 0);
    assert_int_equal(metrics_register(&m, &ten, &t), 0);
    metrics_observe(b, 0, 16);
    metrics_observe(b, 0, 17);
    metrics_observe(t, 0, 21);
    size_t len = 0;
    char *text = render(&m, &len);
    assert_string_equal(text, "# HELP b B.\n# TYPE b histogram\n"
                              "b_bucket{le=\"1\"} 0\nb_bucket{le=\"16\"} 1\n"
                              "b_bucket{le=\"1024\"} 2\nb_bucket{le=\"+Inf\"} 2\n"
                              "b_sum 33\nb_count 2\n"
                              "# HELP t T.\n# TYPE t histogram\n"
                              "t_bucket{le=\"0.5\"} 0\nt_bucket{le=\"2\"} 0\n"
                              "t_bucket{le=\"+Inf\"} 1\nt_sum 2.1\nt_count 1\n");
    free(text);
    metrics_close(&m);
}

struct collect_ctx {
    struct metric *gauge;
    int calls;
};

static void collect(void *ctx)
{
    struct collect_ctx *c = ctx;
    c->calls++;
    metrics_gauge_set(c->gauge, 0, 40 + c->calls);
}

/* Goal: the collect callback runs before every render, so gauges that are
 * read rather than pushed are fresh. */
static void test_metrics_collect_runs_before_render(void **state)
{
    (void)state;
    struct collect_ctx ctx = { NULL, 0 };
    struct metrics m;
    metrics_init(&m, collect, &ctx);
    struct metric_desc d = { .name = "g", .help = "G.", .type = METRIC_GAUGE };
    assert_int_equal(metrics_register(&m, &d, &ctx.gauge), 0);
    size_t len = 0;
    char *text = render(&m, &len);
    assert_string_equal(text, "# HELP g G.\n# TYPE g gauge\ng 41\n");
    free(text);
    text = render(&m, &len);
    assert_string_equal(text, "# HELP g G.\n# TYPE g gauge\ng 42\n");
    free(text);
    metrics_close(&m);
}

/* Goal: the render bound holds for many series with long label values
 * (1024 shards x the standard latency buckets). */
static void test_metrics_render_bound_holds_for_many_series(void **state)
{
    (void)state;
    static const uint64_t buckets[] = { METRICS_LATENCY_BUCKETS_US };
    struct metrics m;
    metrics_init(&m, NULL, NULL);
    struct metric_desc d = { .name = "usher_apply_latency_ms",
                             .help = "Latency.",
                             .type = METRIC_HISTOGRAM,
                             .label_count = 1,
                             .labels = { { "shard", 1024, NULL } },
                             .bounds = buckets,
                             .bound_count = METRICS_LATENCY_BUCKET_COUNT,
                             .scale = 1000 };
    struct metric *mt = NULL;
    assert_int_equal(metrics_register(&m, &d, &mt), 0);
    for (uint32_t s = 0; s < 1024; s++) {
        metrics_observe(mt, s, UINT64_MAX / 2048u + s);
    }
    size_t len = 0;
    char *text = render(&m, &len);
    assert_non_null(strstr(text, "usher_apply_latency_ms_bucket{shard=\"1023\",le=\"10000\"} 0\n"));
    assert_non_null(strstr(text, "usher_apply_latency_ms_bucket{shard=\"0\",le=\"0.1\"} 0\n"));
    free(text);
    metrics_close(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_small_registry_exact_text),
        cmocka_unit_test(test_metrics_render_refuses_a_short_buffer),
        cmocka_unit_test(test_metrics_observe_and_render_do_not_allocate),
        cmocka_unit_test(test_metrics_register_nomem_changes_nothing),
        cmocka_unit_test(test_metrics_escapes_help_and_label_values),
        cmocka_unit_test(test_metrics_histogram_scales),
        cmocka_unit_test(test_metrics_collect_runs_before_render),
        cmocka_unit_test(test_metrics_render_bound_holds_for_many_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
