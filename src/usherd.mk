# usherd: the node (loop, listener, connections, routing) over the shard
# groups of raft/ and the leaf modules of src/daemon.mk.
bin_PROGRAMS += src/usherd
src_usherd_SOURCES = src/usherd.c src/node.c src/node.h src/conn.c src/conn.h \
	src/dispatch.c src/dispatch.h src/node_http.c
src_usherd_CFLAGS = $(AM_CFLAGS) -I$(srcdir)/raft $(UV_CFLAGS) $(RAFT_CFLAGS)
src_usherd_LDADD = src/libdaemon.la raft/libgroup.la src/libinv.la $(RAFT_LIBS) $(UV_LIBS)
