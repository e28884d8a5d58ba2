# raft/: one shard = one Raft group (raft/group.h); the only code that
# includes raft.h (STYLE.md 1.3). docs/RAFT.md says how libraft is used.
noinst_LTLIBRARIES += raft/libgroup.la
raft_libgroup_la_SOURCES = \
	raft/group.h raft/group.c \
	raft/fsm.h raft/fsm.c \
	raft/batch.h raft/batch.c \
	raft/transport.h raft/transport.c \
	raft/hub.h raft/hub.c \
	raft/io_guard.h raft/io_guard.c \
	raft/vote_guard.h raft/vote_guard.c
raft_libgroup_la_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/raft $(RAFT_CFLAGS) $(UV_CFLAGS) $(LMDB_CFLAGS) \
	$(XXHASH_CFLAGS)
raft_libgroup_la_LIBADD = src/libinv.la src/libdaemon.la $(RAFT_LIBS) $(UV_LIBS) $(XXHASH_LIBS)
