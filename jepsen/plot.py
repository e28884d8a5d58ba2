#!/usr/bin/env python3
"""Timeline plot of a Jepsen run: jepsen/plot.py RUN_DIR [--title TEXT]

Reads RUN_DIR/history.jsonl (HISTORY.md) and RUN_DIR/nemesis.jsonl (optional)
and writes RUN_DIR/timeline.png with gnuplot:

- top panel: latency (ms, log scale) of every completed operation at its
  completion time, one colour per f, a shape per outcome (ok / fail / info);
- bottom panel: ok operations per second;
- both panels: fault windows shaded behind the data, one colour per kind.

x is seconds since the first history record. Final reads (`"final": true`)
are left out: they run after the heal and say nothing about latency under
faults. Exit 0 on success, 1 with a message on stderr on bad input or when
gnuplot fails. Standard library only; gnuplot must be on PATH.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

OUTCOMES = ("ok", "fail", "info")

# Strong colours for operations, pale ones for fault windows, so that points
# stay readable on top of any shading. Unknown names get a fallback colour.
OP_COLOURS = {
    "hold": "#1f77b4", "extend": "#9467bd", "book": "#2ca02c",
    "release": "#ff7f0e", "cancel": "#d62728", "read": "#8c564b",
}
NEMESIS_COLOURS = {
    "partition": "#ff9896", "kill": "#c7c7c7", "pause": "#aec7e8",
    "clock": "#dbdb8d", "slow": "#ffbb78", "flaky": "#c5b0d5", "disk": "#9edae5",
    "wipe": "#f7b6d2",
}
FALLBACK_COLOURS = ["#17becf", "#e377c2", "#7f7f7f", "#bcbd22", "#000000"]

# gnuplot point types (cairo): 7 filled circle, 2 cross, 9 filled triangle.
# info is the outcome people look for (timeouts), so it is drawn largest.
OUTCOME_STYLE = {"ok": (7, 0.35), "fail": (2, 0.6), "info": (9, 0.9)}

WIDTH, HEIGHT = 1400, 800      # pixels of the PNG
# Thinning grid: cells of about 2x2 pixels of the latency panel, smaller
# than a point, so thinning does not change the picture.
PLOT_COLUMNS = 550
PLOT_ROWS = 250
MIN_LATENCY_MS = 1e-3          # log scale: a 0 ns latency is drawn at 1 us


class BadInput(Exception):
    pass


def colour(table, name, extra):
    """Colour of name; names not in table get fallback colours in the order
    they are first seen (extra remembers them)."""
    if name in table:
        return table[name]
    if name not in extra:
        extra[name] = FALLBACK_COLOURS[len(extra) % len(FALLBACK_COLOURS)]
    return extra[name]


def read_jsonl(path):
    """Yields (line number, record) for each non-blank line of path."""
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                yield n, parse(path, n, line)


def parse(path, n, line):
    try:
        rec = json.loads(line)
    except ValueError as e:
        raise BadInput("%s:%d: not JSON (%s)" % (path, n, e))
    if not isinstance(rec, dict):
        raise BadInput("%s:%d: not a JSON object" % (path, n))
    return rec


def field(path, n, rec, name, kind):
    v = rec.get(name)
    # bool is an int in Python; a time or process of true is still wrong.
    if not isinstance(v, kind) or isinstance(v, bool):
        raise BadInput("%s:%d: missing or bad %r" % (path, n, name))
    return v


# The workload (history.c) writes every record with the same leading fields
# in the same order. Matching them with a regex anchored at the line start is
# several times faster than json.loads on a few hundred thousand lines, and
# takes only top-level fields. Lines that do not match (other writers, other
# key order) or that may be final reads go through json.loads.
FAST = re.compile(r'\{"process": (\d+), (?:"client": -?\d+, )?"type": "(\w+)", '
                  r'"f": "(\w+)", "time_ns": (\d+)[,}]')


def history_events(path):
    """Yields (line number, process, type, f, time_ns, final)."""
    with open(path) as fh:
        for n, line in enumerate(fh, 1):
            m = FAST.match(line)
            # A line cut short (a killed run) must not pass the fast path.
            if m and line.rstrip().endswith("}") and '"final"' not in line:
                yield (n, int(m.group(1)), m.group(2), m.group(3),
                       int(m.group(4)), False)
            elif line.strip():
                rec = parse(path, n, line)
                yield (n, field(path, n, rec, "process", int),
                       field(path, n, rec, "type", str),
                       field(path, n, rec, "f", str),
                       field(path, n, rec, "time_ns", int),
                       rec.get("final") is True)


def load_history(path):
    """Returns (t0_ns, t_end_ns, ops) where ops is a list of
    (f, outcome, completion_ns, latency_ns) and t0/t_end are the first and
    last times of any record (None, None for an empty history)."""
    open_invokes = {}   # process -> (f, invoke time) of its latest invoke
    ops = []
    t0 = t_end = None
    for n, p, typ, f, t, final in history_events(path):
        if t0 is None:
            t0 = t_end = t
        elif t < t0:
            t0 = t
        elif t > t_end:
            t_end = t
        if typ == "invoke":
            open_invokes[p] = (f, t)
            continue
        if typ not in OUTCOMES:
            raise BadInput("%s:%d: unknown type %r" % (path, n, typ))
        if p not in open_invokes:
            raise BadInput("%s:%d: %s of process %d without an invoke"
                           % (path, n, typ, p))
        f_inv, t_inv = open_invokes.pop(p)
        if not final:
            ops.append((f_inv, typ, t, t - t_inv))
    # Invokes still open at the end count as info for the checker, but they
    # have no completion time to plot at, so they are not drawn.
    return t0, t_end, ops


def load_nemesis(path, t_end):
    """Returns fault windows [(f, start_ns, stop_ns)] sorted by start. A start
    without a stop runs to t_end; a stop without a start is ignored (the
    nemesis may log a heal of a fault that never started)."""
    if not os.path.exists(path):
        return []
    started = {}        # f -> start time of its open window
    windows = []
    for n, rec in read_jsonl(path):
        typ = field(path, n, rec, "type", str)
        f = field(path, n, rec, "f", str)
        t = field(path, n, rec, "time_ns", int)
        if typ == "start":
            # A second start while open keeps the first: the fault was on.
            started.setdefault(f, t)
        elif typ == "stop":
            if f in started:
                windows.append((f, started.pop(f), t))
        else:
            raise BadInput("%s:%d: unknown type %r" % (path, n, typ))
    for f, start in started.items():
        windows.append((f, start, max(start, t_end or start)))
    return sorted(windows, key=lambda w: w[1])


def thin(points, x_span, y_lo, y_hi):
    """Drops points that would land in the same small cell (about 2x2
    pixels, less than a point's size) as an earlier one of the same series:
    a few hundred thousand operations shrink to what can be seen, so gnuplot
    stays fast and the picture is unchanged."""
    xs = PLOT_COLUMNS / max(x_span, 1e-9)
    ys = PLOT_ROWS / max(math.log10(y_hi) - math.log10(y_lo), 1e-9)
    seen = set()
    out = []
    for x, y in points:
        cell = (int(x * xs), int(math.log10(y) * ys))
        if cell not in seen:
            seen.add(cell)
            out.append((x, y))
    return out


def quote(s):
    """A gnuplot string literal (single quotes: no backslash escapes)."""
    return "'" + str(s).replace("'", "''") + "'"


def gnuplot_script(title, out_png, tmp, t0, t_end, ops, windows):
    """Writes the data files into tmp and returns the gnuplot script."""
    head = ["set terminal pngcairo size %d,%d font 'Sans,10' noenhanced"
            % (WIDTH, HEIGHT),
            "set output %s" % quote(out_png)]
    if not ops:
        # Still a PNG, so a report can link it whatever happened.
        return "\n".join(head + [
            "set title %s" % quote(title),
            "unset border; unset tics; unset key",
            "set label 1 'no operations' at graph 0.5, graph 0.5 center font 'Sans,20'",
            "plot [0:1] [0:1] -1 notitle",
        ]) + "\n"

    sec = lambda ns: (ns - t0) / 1e9
    x_max = max(sec(t_end), 1e-3)
    extra = {}

    # Latency points, one file per (f, outcome). The key lists f in a fixed
    # order, so that plots of different runs read alike.
    order = list(OP_COLOURS)
    fs = sorted(set(f for f, _, _, _ in ops),
                key=lambda f: (order.index(f) if f in order else len(order), f))
    series = {}
    for f, typ, t, lat in ops:
        series.setdefault((f, typ), []).append(
            (sec(t), max(lat / 1e6, MIN_LATENCY_MS)))
    lats = [y for pts in series.values() for _, y in pts]
    y_lo, y_hi = min(lats), max(lats)
    files = []
    for (f, typ), pts in series.items():
        name = os.path.join(tmp, "lat-%d-%s.dat" % (fs.index(f), typ))
        with open(name, "w") as fh:
            fh.writelines("%.6f %.6g\n" % p for p in thin(pts, x_max, y_lo, y_hi))
        files.append((f, typ, name))

    # Throughput: ok completions per bin; bins of 1 s, wider on long runs so
    # there are at most ~600 bars.
    width = max(1.0, math.ceil(x_max / 600))
    bins = [0] * (int(x_max / width) + 1)
    for f, typ, t, _ in ops:
        if typ == "ok":
            bins[int(sec(t) / width)] += 1
    tput = os.path.join(tmp, "throughput.dat")
    with open(tput, "w") as fh:
        for i, c in enumerate(bins):
            fh.write("%.3f %.3f\n" % (i * width, c / width))
        fh.write("%.3f %.3f\n" % (len(bins) * width, 0))   # closes the last step

    # Fault windows as shaded rectangles behind the data, in both panels;
    # gnuplot objects stay set across the multiplot's plots.
    rects = []
    kinds = list(dict.fromkeys(f for f, _, _ in windows))
    for i, (f, start, stop) in enumerate(windows, 1):
        rects.append("set object %d rect from %.6f, graph 0 to %.6f, graph 1 "
                     "behind fc rgb %s fs transparent solid 0.45 noborder"
                     % (i, sec(start), max(sec(stop), sec(start)),
                        quote(colour(NEMESIS_COLOURS, f, extra))))

    # The key: one entry per f (colour), per outcome (shape), per fault kind;
    # the data themselves are plotted without titles, else there would be
    # one entry per f and outcome.
    key = []
    for f in fs:
        key.append("keyentry with points pt 7 ps 1 lc rgb %s title %s"
                   % (quote(colour(OP_COLOURS, f, extra)), quote(f)))
    for typ in OUTCOMES:
        pt, _ = OUTCOME_STYLE[typ]
        key.append("keyentry with points pt %d ps 1 lc rgb 'black' title %s"
                   % (pt, quote(typ)))
    for f in kinds:
        key.append("keyentry with boxes fs transparent solid 0.45 noborder "
                   "fc rgb %s title %s"
                   % (quote(colour(NEMESIS_COLOURS, f, extra)), quote(f)))
    # ok first, info last: the rare outcomes are drawn on top.
    files.sort(key=lambda s: OUTCOMES.index(s[1]))
    points = ["%s using 1:2 with points pt %d ps %g lc rgb %s notitle"
              % (quote(name), OUTCOME_STYLE[typ][0], OUTCOME_STYLE[typ][1],
                 quote(colour(OP_COLOURS, f, extra)))
              for f, typ, name in files]

    # Fixed left/right margins in both panels so that their x axes line up;
    # the key sits right of the latency panel.
    return "\n".join(head + [
        "set multiplot",
        "set lmargin at screen 0.07",
        "set rmargin at screen 0.86",
        "set xrange [0:%.6f]" % x_max,
        "set grid xtics ytics lc rgb '#dddddd'",
        "set border lc rgb '#555555'",
        "set style fill transparent solid 0.45 noborder",
        *rects,
        # latency panel
        "set size 1, 0.70",
        "set origin 0, 0.30",
        "set tmargin 2.5",
        "set bmargin 0.5",
        "set title %s" % quote(title),
        "set format x ''",
        "set logscale y",
        # Whole decades, with room above the slowest point (often a timeout
        # at a round number) so that it is not drawn on the border.
        "set yrange [%g:%g]" % (10 ** math.floor(math.log10(y_lo)),
                                10 ** math.ceil(math.log10(y_hi * 1.2))),
        "set ylabel 'latency (ms)'",
        "set key outside right top vertical Left reverse samplen 1.5 spacing 1.1",
        "plot " + ", \\\n     ".join(key + points),
        # throughput panel
        "set size 1, 0.30",
        "set origin 0, 0",
        "set tmargin 0.5",
        "set bmargin 3",
        "unset title",
        "set format x '%g'",
        "unset logscale y",
        "set yrange [0:*]",
        "set ylabel 'ok ops/s'",
        "set xlabel 'time since the first history record (s)'",
        "unset key",
        "plot %s using 1:2 with fillsteps lc rgb '#4c72b0' fs solid 0.5 notitle, "
        "'' using 1:2 with steps lc rgb '#4c72b0' lw 1 notitle" % quote(tput),
        "unset multiplot",
    ]) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="plot.py", description="Draw RUN_DIR/timeline.png from "
        "RUN_DIR/history.jsonl and RUN_DIR/nemesis.jsonl with gnuplot.")
    ap.add_argument("run_dir")
    ap.add_argument("--title", default=None,
                    help="plot title (default: the run folder's name)")
    a = ap.parse_args(argv)
    title = a.title if a.title is not None else os.path.basename(
        os.path.abspath(a.run_dir))
    out_png = os.path.join(a.run_dir, "timeline.png")
    try:
        hist = os.path.join(a.run_dir, "history.jsonl")
        if not os.path.isfile(hist):
            raise BadInput("%s: no such file" % hist)
        t0, t_end, ops = load_history(hist)
        windows = load_nemesis(os.path.join(a.run_dir, "nemesis.jsonl"), t_end)
        if t0 is not None:
            # A fault may start before the first operation; clip it to x = 0.
            windows = [(f, max(s, t0), max(e, t0)) for f, s, e in windows]
        gnuplot = shutil.which("gnuplot")
        if gnuplot is None:
            raise BadInput("gnuplot not found on PATH "
                           "(apt-get install -y gnuplot-nox)")
        with tempfile.TemporaryDirectory(prefix="usher-plot-") as tmp:
            script = gnuplot_script(title, os.path.abspath(out_png), tmp,
                                    t0, t_end, ops, windows)
            script_path = os.path.join(tmp, "timeline.gp")
            with open(script_path, "w") as fh:
                fh.write(script)
            p = subprocess.run([gnuplot, script_path], capture_output=True,
                               text=True)
            if p.returncode != 0:
                raise BadInput("gnuplot failed (exit %d): %s"
                               % (p.returncode, p.stderr.strip()))
    except (BadInput, OSError) as e:
        print("plot.py: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
