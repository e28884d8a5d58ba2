# libcodec: the byte formats and what they carry (events, commands, results,
# wire frames). libusher links it; it has no LMDB.
noinst_LTLIBRARIES += src/libcodec.la
src_libcodec_la_SOURCES = \
	src/assertion.c src/assertion.h \
	src/err.c src/err.h \
	src/mem.c src/mem.h \
	src/limits.h src/cmd.h \
	src/event.c src/event.h \
	src/buf.c src/buf.h \
	src/codec.h src/codec_cmd.c src/codec_batch.c src/codec_result.c src/codec_event.c \
	src/proto.h src/codec_frame.c src/codec_reply.c \
	src/shard.c src/shard.h
src_libcodec_la_CFLAGS = $(AM_CFLAGS) $(XXHASH_CFLAGS)
src_libcodec_la_LIBADD = $(XXHASH_LIBS)

# libinv: the state machine over LMDB. Deterministic code only (STYLE.md
# 1.2); usherd, tests, bench and demo link it.
noinst_LTLIBRARIES += src/libinv.la
src_libinv_la_SOURCES = \
	src/store.c src/store.h \
	src/inv.h src/inv_int.h src/inv.c src/inv_event.c src/inv_hold.c src/inv_seat.c src/inv_book.c \
	src/inv_sweep.c src/inv_read.c src/inv_snapshot.c src/inv_check.c
src_libinv_la_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(XXHASH_CFLAGS)
src_libinv_la_LIBADD = src/libcodec.la $(LMDB_LIBS) $(XXHASH_LIBS)
