# Unit tests of libusher's parts that need no server, of libusher on the
# wire against fake nodes (threads of the test speaking the protocol), of the
# usher tool's argument and venue parsing and seat map, and of usher-bench's
# histogram. test_usher compiles the internal client files it tests
# (libusher.la hides them); the others link the library's public API.
check_PROGRAMS += tests/unit/test_usher tests/unit/test_usher_net tests/unit/test_usher_cli \
	tests/unit/test_bench_hist
TESTS += tests/unit/test_usher tests/unit/test_usher_net tests/unit/test_usher_cli \
	tests/unit/test_bench_hist

tests_unit_test_usher_SOURCES = tests/unit/test_usher.c client/usher_err.c client/usher_key.c \
	client/usher_route.c client/usher_heap.c client/usher_spec.c
tests_unit_test_usher_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/client
tests_unit_test_usher_LDADD = src/libcodec.la $(CMOCKA_LIBS)

tests_unit_test_usher_net_SOURCES = tests/unit/test_usher_net.c
tests_unit_test_usher_net_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/client
tests_unit_test_usher_net_LDADD = client/libusher.la src/libcodec.la $(UV_LIBS) $(CMOCKA_LIBS) \
	-lpthread

tests_unit_test_usher_cli_SOURCES = tests/unit/test_usher_cli.c client/cli_args.c \
	client/cli_venue.c client/cli_print.c
tests_unit_test_usher_cli_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS) \
	$(JANSSON_CFLAGS) -I$(srcdir)/client
tests_unit_test_usher_cli_LDADD = client/libusher.la $(JANSSON_LIBS) $(UV_LIBS) $(CMOCKA_LIBS)

tests_unit_test_bench_hist_SOURCES = tests/unit/test_bench_hist.c client/bench_hist.c
tests_unit_test_bench_hist_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/client
tests_unit_test_bench_hist_LDADD = $(CMOCKA_LIBS) -lm
