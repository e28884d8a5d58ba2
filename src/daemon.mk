# libdaemon: usherd's modules above the state machine (issue 3): the JSON
# logger, the configuration, the metrics registry and the operator HTTP
# server. usherd's core (node, listener, conn, dispatch) joins it; usherd
# and the daemon's unit tests link it. Included from the top-level
# Makefile.am.
noinst_LTLIBRARIES += src/libdaemon.la
src_libdaemon_la_SOURCES = \
	src/logger.c src/logger.h \
	src/config.c src/config.h \
	src/metrics.c src/metrics.h \
	src/http.c src/http.h
src_libdaemon_la_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS)
src_libdaemon_la_LIBADD = src/libcodec.la $(UV_LIBS) $(HTTP_PARSER_LIBS)
