# Tests of the lead's modules: the error table and its documentation.
check_PROGRAMS += tests/unit/test_err
TESTS += tests/unit/test_err
tests_unit_test_err_SOURCES = tests/unit/test_err.c
tests_unit_test_err_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_err_LDADD = src/libinv.la $(CMOCKA_LIBS)
