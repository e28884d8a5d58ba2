# Unit tests of the client wire protocol codec (src/codec_frame.c,
# src/codec_reply.c; docs/PROTOCOL.md). Included from the top-level
# Makefile.am (non-recursive build).
check_PROGRAMS += tests/unit/test_proto
TESTS += tests/unit/test_proto

tests_unit_test_proto_SOURCES = tests/unit/test_proto.c tests/fuzz/fuzz_proto_equal.h
tests_unit_test_proto_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_proto_LDADD = src/libcodec.la $(CMOCKA_LIBS)

# The protocol fuzz targets, their corpus generator and seed corpus
# (tests/fuzz/run.sh builds and runs them with the codec's).
EXTRA_DIST += tests/fuzz/fuzz_frame.c tests/fuzz/fuzz_reply.c tests/fuzz/gen_proto_corpus.c \
	tests/fuzz/corpus/frame tests/fuzz/corpus/reply
