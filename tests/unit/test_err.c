/*
 * Error table tests: names and messages come from one table, and
 * docs/ERRORS.md lists exactly the codes of src/err.h with their values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

#define CODE_SCAN_MAX 256

/* Goal: every code has a stable name and message; unknown codes say so. */
static void test_err_names_and_messages(void **state)
{
    (void)state;
    assert_string_equal(err_name(USHER_OK), "OK");
    assert_string_equal(err_name(USHER_SEAT_TAKEN), "SEAT_TAKEN");
    assert_int_equal(USHER_SEAT_TAKEN, 23);
    assert_string_equal(err_message(USHER_HOLD_EXPIRED), "the hold has expired");
    assert_string_equal(err_name(9999), "UNKNOWN");
    assert_string_equal(err_message(-5), "unknown error");
    assert_true(err_is_known(USHER_LIMIT_STORE_FULL));
    assert_false(err_is_known(19));
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = calloc(1, 1u << 20);
    size_t n = buf == NULL ? 0 : fread(buf, 1, (1u << 20) - 1, f);
    (void)n;
    (void)fclose(f);
    return buf;
}

/* Checks the doc's row for one code; returns 1 when the code is known. */
static int check_code_row(const char *doc, int code)
{
    char row[256];
    (void)snprintf(row, sizeof(row), "| %d | %s | %s |", code, err_name(code), err_message(code));
    char prefix[32];
    (void)snprintf(prefix, sizeof(prefix), "\n| %d | ", code);
    if (!err_is_known(code)) {
        if (strstr(doc, prefix) != NULL) {
            fail_msg("docs/ERRORS.md lists unknown code %d", code);
        }
        return 0;
    }
    if (strstr(doc, row) == NULL) {
        fail_msg("docs/ERRORS.md lacks the row: %s", row);
    }
    return 1;
}

/* Goal: docs/ERRORS.md has one row "| value | NAME | message |" per code and
 * no row for a code that does not exist. */
static void test_err_doc_matches_table(void **state)
{
    (void)state;
    const char *srcdir = getenv("USHER_SRCDIR");
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/docs/ERRORS.md", srcdir != NULL ? srcdir : ".");
    char *doc = read_file(path);
    assert_non_null(doc);
    int known = 0;
    for (int code = 0; code < CODE_SCAN_MAX; code++) {
        known += check_code_row(doc, code);
    }
    assert_true(known > 40);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_names_and_messages),
        cmocka_unit_test(test_err_doc_matches_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
