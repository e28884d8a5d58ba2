/*
 * The history file of a Jepsen run (jepsen/HISTORY.md): one JSON object per
 * line, written in the order things happen. The workload is one thread on
 * one libuv loop, so the order of the calls here is the real-time order the
 * checker relies on; every record is flushed to the kernel at once, so a
 * workload killed mid-run leaves a history whose open operations read as
 * unknown (info), never a torn line.
 */
#ifndef USHER_JEPSEN_HISTORY_H
#define USHER_JEPSEN_HISTORY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Bytes of one record's value object; a read of HISTORY_SEATS_MAX seats
 * ("\"255\":\"taken\",") fits with room to spare. */
#define HISTORY_VALUE_MAX 8192u
#define HISTORY_SEATS_MAX 256u

enum history_type { HISTORY_INVOKE, HISTORY_OK, HISTORY_FAIL, HISTORY_INFO };

struct history {
    FILE *f;
    uint64_t records;
    bool failed; /* a write failed: the run is void */
};

/* One record. key 0 means none (reads); value is a JSON object or NULL
 * for {}. */
struct history_rec {
    uint32_t process;
    uint64_t client;
    enum history_type type;
    const char *f;
    uint64_t key;
    uint64_t event;
    const char *value;
    bool final;
};

/* Opens path for writing: truncated, or appended to (final reads).
 * Returns 0 or -1 with errno. */
int history_open(struct history *h, const char *path, bool append);

/* Writes one record stamped with the monotonic clock (uv_hrtime(), the
 * clock of the harness's nemesis log too). */
void history_write(struct history *h, const struct history_rec *r);

/* Closes the file. Returns 0, or -1 when any write or the close failed. */
int history_close(struct history *h);

/* A bounded JSON object builder for values: fields appended with the
 * functions below; overflowing the buffer marks it and the record then
 * carries {"error":"value too long"} instead of broken JSON. */
struct jbuf {
    char s[HISTORY_VALUE_MAX];
    size_t len;
    bool overflow;
    bool open_field; /* a field was written: the next one needs a comma */
};

void jbuf_start(struct jbuf *b);
void jbuf_u64(struct jbuf *b, const char *name, uint64_t v);
void jbuf_str(struct jbuf *b, const char *name, const char *v);
/* "name": ["1","7"]: seats as strings, as the checker compares them. */
void jbuf_seats(struct jbuf *b, const char *name, const uint32_t *seats, uint32_t n);
/* "name": {"0":"free","1":"taken",...} for seats 0 .. n-1: what an
 * availability read can tell (HISTORY.md "taken"). */
void jbuf_seat_states(struct jbuf *b, const char *name, const bool *is_free, uint32_t n);
/* Closes the object and returns it. */
const char *jbuf_end(struct jbuf *b);

#endif
