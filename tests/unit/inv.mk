# Unit tests of the inventory state machine (src/inv.h): one cmocka binary
# per area, each linked with the fixture helpers of tests/lib (a temp-dir
# store and its twin, command builders, a seeded workload, dump comparison).
# Included from the top-level Makefile.am.
INV_TEST_LIB = tests/lib/invfix.c tests/lib/invfix.h tests/lib/tempdir.c tests/lib/tempdir.h
INV_TEST_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/tests/lib
INV_TEST_LDADD = src/libinv.la $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_inv_event
TESTS += tests/unit/test_inv_event
tests_unit_test_inv_event_SOURCES = tests/unit/test_inv_event.c $(INV_TEST_LIB)
tests_unit_test_inv_event_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_event_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_hold
TESTS += tests/unit/test_inv_hold
tests_unit_test_inv_hold_SOURCES = tests/unit/test_inv_hold.c $(INV_TEST_LIB)
tests_unit_test_inv_hold_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_hold_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_best
TESTS += tests/unit/test_inv_best
tests_unit_test_inv_best_SOURCES = tests/unit/test_inv_best.c $(INV_TEST_LIB)
tests_unit_test_inv_best_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_best_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_ga
TESTS += tests/unit/test_inv_ga
tests_unit_test_inv_ga_SOURCES = tests/unit/test_inv_ga.c $(INV_TEST_LIB)
tests_unit_test_inv_ga_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_ga_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_book
TESTS += tests/unit/test_inv_book
tests_unit_test_inv_book_SOURCES = tests/unit/test_inv_book.c $(INV_TEST_LIB)
tests_unit_test_inv_book_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_book_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_time
TESTS += tests/unit/test_inv_time
tests_unit_test_inv_time_SOURCES = tests/unit/test_inv_time.c $(INV_TEST_LIB)
tests_unit_test_inv_time_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_time_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_sweep
TESTS += tests/unit/test_inv_sweep
tests_unit_test_inv_sweep_SOURCES = tests/unit/test_inv_sweep.c $(INV_TEST_LIB)
tests_unit_test_inv_sweep_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_sweep_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_idem
TESTS += tests/unit/test_inv_idem
tests_unit_test_inv_idem_SOURCES = tests/unit/test_inv_idem.c $(INV_TEST_LIB)
tests_unit_test_inv_idem_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_idem_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_batch
TESTS += tests/unit/test_inv_batch
tests_unit_test_inv_batch_SOURCES = tests/unit/test_inv_batch.c $(INV_TEST_LIB)
tests_unit_test_inv_batch_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_batch_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_refusal
TESTS += tests/unit/test_inv_refusal
tests_unit_test_inv_refusal_SOURCES = tests/unit/test_inv_refusal.c $(INV_TEST_LIB)
tests_unit_test_inv_refusal_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_refusal_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_read
TESTS += tests/unit/test_inv_read
tests_unit_test_inv_read_SOURCES = tests/unit/test_inv_read.c $(INV_TEST_LIB)
tests_unit_test_inv_read_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_read_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_determinism
TESTS += tests/unit/test_inv_determinism
tests_unit_test_inv_determinism_SOURCES = tests/unit/test_inv_determinism.c $(INV_TEST_LIB)
tests_unit_test_inv_determinism_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_determinism_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_snapshot
TESTS += tests/unit/test_inv_snapshot
tests_unit_test_inv_snapshot_SOURCES = tests/unit/test_inv_snapshot.c $(INV_TEST_LIB)
tests_unit_test_inv_snapshot_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_snapshot_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_limits
TESTS += tests/unit/test_inv_limits
tests_unit_test_inv_limits_SOURCES = tests/unit/test_inv_limits.c $(INV_TEST_LIB)
tests_unit_test_inv_limits_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_limits_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_mem
TESTS += tests/unit/test_inv_mem
tests_unit_test_inv_mem_SOURCES = tests/unit/test_inv_mem.c $(INV_TEST_LIB)
tests_unit_test_inv_mem_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_mem_LDADD = $(INV_TEST_LDADD)

# The store's disk reservation against SIGBUS on a full disk (src/store.c).
check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/lib/tempdir.c tests/lib/tempdir.h
tests_unit_test_store_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_store_LDADD = $(INV_TEST_LDADD)

check_PROGRAMS += tests/unit/test_inv_precheck
TESTS += tests/unit/test_inv_precheck
tests_unit_test_inv_precheck_SOURCES = tests/unit/test_inv_precheck.c $(INV_TEST_LIB)
tests_unit_test_inv_precheck_CFLAGS = $(INV_TEST_CFLAGS)
tests_unit_test_inv_precheck_LDADD = $(INV_TEST_LDADD)
