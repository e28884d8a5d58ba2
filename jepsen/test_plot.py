"""Tests of jepsen/plot.py: synthetic histories and nemesis logs in a temp
dir, plotted with the real gnuplot. gnuplot is required: without it the
tests fail (a skipped test would hide that the run's report lacks its plot).

Run: python3 -m unittest discover -s jepsen -p 'test_*.py'
"""

import io
import json
import os
import random
import shutil
import sys
import tempfile
import unittest
from contextlib import redirect_stderr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import plot  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FS = ["hold", "book", "release", "cancel", "extend", "read"]


def synthetic_run(d, n_ops=400, seed=1, processes=6):
    """Writes d/history.jsonl and d/nemesis.jsonl: n_ops operations over
    about 20 s on the monotonic clock, ok mostly, some fail and info (long
    latencies inside a partition), a final read, and fault windows: a
    partition, a kill, and a pause left open at the end."""
    rng = random.Random(seed)
    base = 10 ** 12                         # monotonic clocks do not start at 0
    span = 20 * 10 ** 9
    events = []                             # (time, record), sorted below
    for i in range(n_ops):
        p = i % processes
        t = base + i * span // n_ops + p    # distinct times, ops overlap
        f = rng.choice(FS)
        in_partition = 5e9 <= t - base < 9e9
        outcome = rng.choices(["ok", "fail", "info"],
                              [1, 0.3, 2 if in_partition else 0.05])[0]
        lat = int(rng.uniform(0.2e6, 5e6) if outcome != "info" else 1e9)
        events.append((t, {"process": 100 * p + i, "type": "invoke", "f": f,
                           "time_ns": t, "value": {}}))
        events.append((t + lat, {"process": 100 * p + i, "type": outcome,
                                 "f": f, "time_ns": t + lat, "value": {}}))
    end = base + span + 2 * 10 ** 9
    events.append((end, {"process": 9999, "type": "invoke", "f": "read",
                         "time_ns": end, "value": {"node": 1}}))
    events.append((end + 10 ** 6, {"process": 9999, "type": "ok", "f": "read",
                                   "time_ns": end + 10 ** 6, "final": True,
                                   "value": {"seats": {}, "now_ms": 1}}))
    events.sort(key=lambda e: e[0])
    with open(os.path.join(d, "history.jsonl"), "w") as fh:
        for _, rec in events:
            fh.write(json.dumps(rec) + "\n")
    nem = [(5, "start", "partition", {"nodes": [1, 2]}),
           (9, "stop", "partition", None),
           (11, "start", "kill", "n3"),
           (14, "stop", "kill", "n3"),
           (17, "start", "pause", {"nodes": [4]})]   # never stopped
    with open(os.path.join(d, "nemesis.jsonl"), "w") as fh:
        for s, typ, f, v in nem:
            fh.write(json.dumps({"time_ns": base + s * 10 ** 9, "type": typ,
                                 "f": f, "value": v}) + "\n")


class PlotTest(unittest.TestCase):
    def setUp(self):
        # Fail, not skip: the plot is part of every run's report.
        self.assertIsNotNone(shutil.which("gnuplot"),
                             "gnuplot is not installed: apt-get install -y gnuplot-nox")
        self.dir = tempfile.mkdtemp(prefix="usher-plot-test-")
        self.addCleanup(shutil.rmtree, self.dir)

    def run_main(self, *args):
        err = io.StringIO()
        with redirect_stderr(err):
            rc = plot.main([self.dir] + list(args))
        return rc, err.getvalue()

    def assert_png(self):
        path = os.path.join(self.dir, "timeline.png")
        self.assertTrue(os.path.isfile(path), "no timeline.png written")
        with open(path, "rb") as fh:
            data = fh.read()
        self.assertGreater(len(data), 1000)
        self.assertTrue(data.startswith(PNG_SIGNATURE), "not a PNG")

    def test_synthetic_run(self):
        synthetic_run(self.dir)
        rc, err = self.run_main("--title", "seed 1, partition,kill,pause")
        self.assertEqual(rc, 0, err)
        self.assert_png()

    def test_windows_and_ops(self):
        synthetic_run(self.dir)
        t0, t_end, ops = plot.load_history(os.path.join(self.dir, "history.jsonl"))
        self.assertEqual(len(ops), 400)               # the final read is left out
        self.assertTrue(all(lat > 0 for _, _, _, lat in ops))
        windows = plot.load_nemesis(os.path.join(self.dir, "nemesis.jsonl"), t_end)
        self.assertEqual([w[0] for w in windows], ["partition", "kill", "pause"])
        self.assertEqual(windows[-1][2], t_end)        # open window runs to the end

    def test_fast_path_matches_json(self):
        # Lines as history.c writes them (client, key, final) and one with
        # another key order: the regex fast path and json.loads must agree.
        lines = [
            '{"process": 4, "client": 833, "type": "invoke", "f": "hold", "time_ns": 10, '
            '"key": 18, "event": 2, "value": {"customer": 5, "seats": ["4"], "ttl_ms": 1018}}',
            '{"process": 4, "client": 833, "type": "ok", "f": "hold", "time_ns": 25, '
            '"key": 18, "event": 2, "value": {"hold": 1, "seats": ["4"], "expires_at_ms": 9}}',
            '{"process": 5, "client": 9, "type": "invoke", "f": "read", "time_ns": 30, '
            '"event": 2, "value": {"node": 1}}',
            '{"process": 5, "client": 9, "type": "ok", "f": "read", "time_ns": 41, '
            '"event": 2, "value": {"seats": {"4": "booked"}, "now_ms": 3}, "final": true}',
            '{"time_ns": 50, "f": "book", "type": "invoke", "process": 6, "value": {}}',
            '{"time_ns": 57, "f": "book", "type": "info", "process": 6, "value": {}}',
        ]
        path = os.path.join(self.dir, "history.jsonl")
        with open(path, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        t0, t_end, ops = plot.load_history(path)
        self.assertEqual((t0, t_end), (10, 57))
        self.assertEqual(ops, [("hold", "ok", 25, 15), ("book", "info", 57, 7)])

    def test_no_nemesis_file(self):
        synthetic_run(self.dir, n_ops=50)
        os.remove(os.path.join(self.dir, "nemesis.jsonl"))
        rc, err = self.run_main()
        self.assertEqual(rc, 0, err)
        self.assert_png()

    def test_empty_history(self):
        open(os.path.join(self.dir, "history.jsonl"), "w").close()
        rc, err = self.run_main("--title", "empty")
        self.assertEqual(rc, 0, err)
        self.assert_png()

    def test_bad_input(self):
        with open(os.path.join(self.dir, "history.jsonl"), "w") as fh:
            fh.write('{"process": 1, "type": "invoke", "f": "hold", "time_ns": 1}\n')
            fh.write('{"process": 1, "type": "ok", "f": "hold", "time_n\n')
        rc, err = self.run_main()
        self.assertEqual(rc, 1)
        self.assertIn("history.jsonl:2", err)

    def test_missing_history(self):
        rc, err = self.run_main()
        self.assertEqual(rc, 1)
        self.assertIn("history.jsonl", err)


if __name__ == "__main__":
    unittest.main()
