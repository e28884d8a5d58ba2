# Tests of raft/ (one shard group on one node: a real loop, raft_uv files
# and an LMDB store in a temp dir). Included from the top-level Makefile.am.
check_PROGRAMS += tests/raft/test_group
TESTS += tests/raft/test_group
tests_raft_test_group_SOURCES = tests/raft/test_group.c \
	tests/lib/invfix.c tests/lib/invfix.h tests/lib/tempdir.c tests/lib/tempdir.h
tests_raft_test_group_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/raft \
	-I$(srcdir)/tests/lib $(RAFT_CFLAGS) $(UV_CFLAGS)
tests_raft_test_group_LDADD = raft/libgroup.la src/libinv.la $(CMOCKA_LIBS) $(RAFT_LIBS) \
	$(UV_LIBS)
# Valgrind suppressions for libraft's own uninitialised bytes (docs/RAFT.md).
EXTRA_DIST += tests/raft/libraft.supp

# Deterministic multi-replica tests: raft_fixture (in libraft.so) around the
# real fsm, one LMDB store per replica in its own temp dir.
check_PROGRAMS += tests/raft/test_fixture
TESTS += tests/raft/test_fixture
tests_raft_test_fixture_SOURCES = tests/raft/test_fixture.c \
	tests/lib/invfix.c tests/lib/invfix.h tests/lib/tempdir.c tests/lib/tempdir.h
tests_raft_test_fixture_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/raft \
	-I$(srcdir)/tests/lib $(RAFT_CFLAGS) $(UV_CFLAGS)
tests_raft_test_fixture_LDADD = raft/libgroup.la src/libinv.la $(CMOCKA_LIBS) $(RAFT_LIBS) \
	$(UV_LIBS)

# The guards around raft_uv's append and send (raft/io_guard.h), over a
# stand-in raft_io.
check_PROGRAMS += tests/raft/test_io_guard
TESTS += tests/raft/test_io_guard
tests_raft_test_io_guard_SOURCES = tests/raft/test_io_guard.c
tests_raft_test_io_guard_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/raft -I$(srcdir)/src \
	$(RAFT_CFLAGS)
tests_raft_test_io_guard_LDADD = raft/libgroup.la $(CMOCKA_LIBS) $(RAFT_LIBS)

# The vote guard of a rejoining replica (raft/vote_guard.h), on real files.
check_PROGRAMS += tests/raft/test_vote_guard
TESTS += tests/raft/test_vote_guard
tests_raft_test_vote_guard_SOURCES = tests/raft/test_vote_guard.c
tests_raft_test_vote_guard_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(srcdir)/raft -I$(srcdir)/src
tests_raft_test_vote_guard_LDADD = raft/libgroup.la $(CMOCKA_LIBS) $(RAFT_LIBS)
