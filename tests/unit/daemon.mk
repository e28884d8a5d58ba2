# Unit tests of usherd's leaf modules (src/daemon.mk): logger, config,
# metrics and the HTTP server. Included from the top-level Makefile.am.
check_PROGRAMS += tests/unit/test_logger tests/unit/test_config tests/unit/test_metrics \
	tests/unit/test_http
TESTS += tests/unit/test_logger tests/unit/test_config tests/unit/test_metrics \
	tests/unit/test_http

# The logger's lines are parsed back with jansson.
tests_unit_test_logger_SOURCES = tests/unit/test_logger.c
tests_unit_test_logger_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_logger_LDADD = src/libdaemon.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

# Reads docs/OPERATIONS.md through USHER_SRCDIR (AM_TESTS_ENVIRONMENT).
tests_unit_test_config_SOURCES = tests/unit/test_config.c tests/lib/tempdir.c tests/lib/tempdir.h
tests_unit_test_config_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/tests/lib
tests_unit_test_config_LDADD = src/libdaemon.la $(CMOCKA_LIBS)

tests_unit_test_metrics_SOURCES = tests/unit/test_metrics.c
tests_unit_test_metrics_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_metrics_LDADD = src/libdaemon.la $(CMOCKA_LIBS)

# A real libuv loop and a client thread on 127.0.0.1, port 0.
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS)
tests_unit_test_http_LDADD = src/libdaemon.la $(CMOCKA_LIBS) $(UV_LIBS)
