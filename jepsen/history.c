/*
 * The history writer and the value builder of history.h.
 */
#include "history.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <uv.h>

static const char *const type_names[] = {
    [HISTORY_INVOKE] = "invoke",
    [HISTORY_OK] = "ok",
    [HISTORY_FAIL] = "fail",
    [HISTORY_INFO] = "info",
};

int history_open(struct history *h, const char *path, bool append)
{
    memset(h, 0, sizeof(*h));
    h->f = fopen(path, append ? "a" : "w");
    return h->f == NULL ? -1 : 0;
}

void history_write(struct history *h, const struct history_rec *r)
{
    char key[40] = "";
    if (r->key != 0) {
        (void)snprintf(key, sizeof(key), ", \"key\": %" PRIu64, r->key);
    }
    int n = fprintf(h->f,
                    "{\"process\": %" PRIu32 ", \"client\": %" PRIu64 ", \"type\": \"%s\", "
                    "\"f\": \"%s\", \"time_ns\": %" PRIu64 "%s, \"event\": %" PRIu64
                    ", \"value\": %s%s}\n",
                    r->process, r->client, type_names[r->type], r->f, uv_hrtime(), key, r->event,
                    r->value != NULL ? r->value : "{}", r->final ? ", \"final\": true" : "");
    /* Flushed per record: a killed workload leaves whole lines only. */
    if (n < 0 || fflush(h->f) != 0) {
        h->failed = true;
    }
    h->records++;
}

int history_close(struct history *h)
{
    if (h->f == NULL) {
        return -1;
    }
    int rc = fclose(h->f);
    h->f = NULL;
    return rc != 0 || h->failed ? -1 : 0;
}

/* Appends formatted text; marks the buffer on overflow. */
__attribute__((format(printf, 2, 3))) static void jbuf_printf(struct jbuf *b, const char *fmt, ...)
{
    if (b->overflow) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    /* The analyzer loses va_start through the format attribute (as in
     * src/inv_check.c): NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    int n = vsnprintf(b->s + b->len, sizeof(b->s) - b->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(b->s) - b->len) {
        b->overflow = true;
        return;
    }
    b->len += (size_t)n;
}

/* Writes the separator and the field name. */
static void jbuf_field(struct jbuf *b, const char *name)
{
    jbuf_printf(b, "%s\"%s\": ", b->open_field ? ", " : "", name);
    b->open_field = true;
}

void jbuf_start(struct jbuf *b)
{
    b->len = 0;
    b->overflow = false;
    b->open_field = false;
    jbuf_printf(b, "{");
}

void jbuf_u64(struct jbuf *b, const char *name, uint64_t v)
{
    jbuf_field(b, name);
    jbuf_printf(b, "%" PRIu64, v);
}

/* Only our own constant names and error names go through here: plain
 * ASCII without quotes or backslashes, so no escaping is needed. */
void jbuf_str(struct jbuf *b, const char *name, const char *v)
{
    jbuf_field(b, name);
    jbuf_printf(b, "\"%s\"", v);
}

void jbuf_seats(struct jbuf *b, const char *name, const uint32_t *seats, uint32_t n)
{
    jbuf_field(b, name);
    jbuf_printf(b, "[");
    for (uint32_t i = 0; i < n; i++) {
        jbuf_printf(b, "%s\"%" PRIu32 "\"", i == 0 ? "" : ", ", seats[i]);
    }
    jbuf_printf(b, "]");
}

void jbuf_seat_states(struct jbuf *b, const char *name, const bool *is_free, uint32_t n)
{
    jbuf_field(b, name);
    jbuf_printf(b, "{");
    for (uint32_t i = 0; i < n; i++) {
        jbuf_printf(b, "%s\"%" PRIu32 "\": \"%s\"", i == 0 ? "" : ", ", i,
                    is_free[i] ? "free" : "taken");
    }
    jbuf_printf(b, "}");
}

const char *jbuf_end(struct jbuf *b)
{
    jbuf_printf(b, "}");
    if (b->overflow) {
        (void)snprintf(b->s, sizeof(b->s), "{\"error\": \"value too long\"}");
    }
    return b->s;
}
