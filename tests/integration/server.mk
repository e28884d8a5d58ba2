# usherd as a real process: framing, bounds, Raft path, restart, identity.
check_PROGRAMS += tests/integration/test_server
TESTS += tests/integration/test_server
tests_integration_test_server_SOURCES = tests/integration/test_server.c tests/lib/proc.c \
	tests/lib/wire.c tests/lib/invfix.c tests/lib/tempdir.c
tests_integration_test_server_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/tests/lib
tests_integration_test_server_LDADD = src/libinv.la $(CMOCKA_LIBS)
# The test starts the usherd of this build: build it first.
EXTRA_tests_integration_test_server_DEPENDENCIES = src/usherd$(EXEEXT)
