# Three usherd processes as one cluster: formation and routing, leader
# SIGKILL and SIGSTOP, catch-up by snapshot, another cluster refused. The
# replicas' stores are compared offline with libinv once the nodes stop.
check_PROGRAMS += tests/integration/test_cluster
TESTS += tests/integration/test_cluster
tests_integration_test_cluster_SOURCES = tests/integration/test_cluster.c tests/lib/proc.c \
	tests/lib/tempdir.c tests/lib/wire.c
tests_integration_test_cluster_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS) \
	$(LMDB_CFLAGS) -I$(srcdir)/client -I$(srcdir)/tests/lib
tests_integration_test_cluster_LDADD = client/libusher.la src/libinv.la $(LMDB_LIBS) \
	$(UV_LIBS) $(CMOCKA_LIBS)
# The test starts the usherd of this build: build it first.
EXTRA_tests_integration_test_cluster_DEPENDENCIES = src/usherd$(EXEEXT)
