# Benchmarks and the in-process on-sale demo (docs/BENCHMARKS.md).
# Not installed. inv-bench also links LMDB itself: its baseline is a plain
# one-record-per-seat LMDB store, measured in the same process.
noinst_PROGRAMS += bench/inv-bench bench/inv-sim

bench_inv_bench_SOURCES = bench/inv_bench.c
bench_inv_bench_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
bench_inv_bench_LDADD = src/libinv.la $(LMDB_LIBS)

bench_inv_sim_SOURCES = bench/inv_sim.c
bench_inv_sim_LDADD = src/libinv.la
