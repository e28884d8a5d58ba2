# The client side of the Jepsen harness (jepsen/README.md): the workload
# that writes the history the checker reads. Built with everything else,
# not installed.
noinst_PROGRAMS += jepsen/usher-jepsen-workload
jepsen_usher_jepsen_workload_SOURCES = jepsen/workload.h jepsen/workload.c jepsen/procs.c \
	jepsen/final.c jepsen/history.h jepsen/history.c client/bench_hist.c client/bench_hist.h
jepsen_usher_jepsen_workload_CFLAGS = $(AM_CFLAGS) $(UV_CFLAGS) -I$(srcdir)/client -I$(srcdir)/jepsen
jepsen_usher_jepsen_workload_LDADD = client/libusher.la $(UV_LIBS) -lm

EXTRA_DIST += jepsen/README.md jepsen/HISTORY.md jepsen/run jepsen/release-run jepsen/net.py jepsen/cluster.py \
	jepsen/nemesis.py jepsen/checker.py jepsen/plot.py jepsen/test_checker.py jepsen/test_plot.py \
	jepsen/test_real_history.py jepsen/testdata/run-small.jsonl.gz
