# libusher and the usher tool against a real usherd process (issue 3).
check_PROGRAMS += tests/integration/test_client
TESTS += tests/integration/test_client
tests_integration_test_client_SOURCES = tests/integration/test_client.c tests/lib/proc.c \
	tests/lib/tempdir.c
tests_integration_test_client_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(UV_CFLAGS) \
	-I$(srcdir)/client -I$(srcdir)/tests/lib
tests_integration_test_client_LDADD = client/libusher.la $(UV_LIBS) $(CMOCKA_LIBS)
# The test starts the usherd and the usher tool of this build: build them
# with it (a rule on test_client.log would override automake's own).
EXTRA_tests_integration_test_client_DEPENDENCIES = src/usherd$(EXEEXT) client/usher$(EXEEXT)
