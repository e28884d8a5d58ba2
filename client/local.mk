# libusher (the client library; client/usher.h is its only installed header),
# the usher CLI and usher-bench (docs/CLIENT.md). Included from the top-level
# Makefile.am.
#
# libusher is a libtool shared library built with -fvisibility=hidden (from
# AM_CFLAGS): it exports the usher_* functions marked USHER_EXTERN and
# nothing else; the codec it shares with usherd (src/libcodec.la) is linked
# in, hidden. -version-info is current:revision:age (libtool's rules: bump
# revision for a fix, current for an added interface, and reset age when an
# interface is removed or changed).
lib_LTLIBRARIES = client/libusher.la
include_HEADERS = client/usher.h
client_libusher_la_SOURCES = \
	client/usher.h client/usher_int.h \
	client/usher_client.c client/usher_err.c client/usher_call.c client/usher_node.c client/usher_route.c \
	client/usher_heap.c client/usher_key.c client/usher_ops.c client/usher_result.c \
	client/usher_spec.c client/usher_sync.c
client_libusher_la_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) $(XXHASH_CFLAGS)
client_libusher_la_LIBADD = src/libcodec.la $(UV_LIBS) $(XXHASH_LIBS)
client_libusher_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -export-symbols-regex '^usher_' \
	-no-undefined

pkgconfigdir = $(libdir)/pkgconfig
pkgconfig_DATA = client/usher.pc

# The usher command-line tool.
bin_PROGRAMS += client/usher
client_usher_SOURCES = client/cli.h client/cli_main.c client/cli_args.c client/cli_venue.c \
	client/cli_print.c client/cli_event.c client/cli_hold.c
client_usher_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) $(JANSSON_CFLAGS) -I$(srcdir)/client
client_usher_LDADD = client/libusher.la $(UV_LIBS) $(JANSSON_LIBS)

# The benchmark of docs/BENCHMARKS.md (not installed).
noinst_PROGRAMS += client/usher-bench
client_usher_bench_SOURCES = client/bench.c client/bench_hist.c client/bench_hist.h
client_usher_bench_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/client
client_usher_bench_LDADD = client/libusher.la $(UV_LIBS) -lm

# Example venue files of docs/VENUE.md.
EXTRA_DIST += client/venues/hall.json client/venues/arena.json

# The on-sale surge of `./quickstart demo` (not installed).
noinst_PROGRAMS += client/usher-surge
client_usher_surge_SOURCES = client/surge.c client/bench_hist.c client/bench_hist.h
client_usher_surge_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/client
client_usher_surge_LDADD = client/libusher.la $(UV_LIBS) -lm
