# Unit tests of the byte cursors, event descriptions and binary formats.
# Included from the top-level Makefile.am (non-recursive build).
check_PROGRAMS += tests/unit/test_buf tests/unit/test_event tests/unit/test_codec
TESTS += tests/unit/test_buf tests/unit/test_event tests/unit/test_codec

tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_buf_LDADD = src/libinv.la $(CMOCKA_LIBS)

tests_unit_test_event_SOURCES = tests/unit/test_event.c
tests_unit_test_event_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_event_LDADD = src/libinv.la $(CMOCKA_LIBS)

tests_unit_test_codec_SOURCES = tests/unit/test_codec.c
tests_unit_test_codec_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(XXHASH_CFLAGS)
tests_unit_test_codec_LDADD = src/libinv.la $(CMOCKA_LIBS) $(XXHASH_LIBS)

# The fuzz targets, their corpus generator and seed corpus ship with the
# sources; tests/fuzz/run.sh builds and runs them (clang + libFuzzer).
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/gen_corpus.c tests/fuzz/fuzz_equal.h \
	tests/fuzz/fuzz_cmd.c tests/fuzz/fuzz_batch.c tests/fuzz/fuzz_event.c \
	tests/fuzz/fuzz_result.c tests/fuzz/corpus/cmd tests/fuzz/corpus/batch \
	tests/fuzz/corpus/event tests/fuzz/corpus/result
