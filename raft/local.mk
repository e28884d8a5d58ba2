# raft/: one shard = one Raft group (raft/group.h). The only code that
# includes raft.h (STYLE.md 1.3).
noinst_LTLIBRARIES += raft/libgroup.la
raft_libgroup_la_SOURCES = raft/group.h raft/group_int.h raft/group.c raft/batch.c raft/fsm.c \
	raft/transport.c
raft_libgroup_la_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/raft $(RAFT_CFLAGS) $(UV_CFLAGS)
raft_libgroup_la_LIBADD = src/libinv.la $(RAFT_LIBS) $(UV_LIBS)
