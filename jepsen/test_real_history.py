"""The checker on a real history: one recorded by jepsen/run (a short run
with a partition and a kill, testdata/run-small.jsonl.gz) must be valid, and each
mutation that breaks one property must be rejected by the check that owns
that property. This ties the checker to what the workload really writes
(field names, seats as strings, retries, final reads), where the other
tests use hand-made histories.

Regenerate the file after a format change with
  jepsen/run --time 15 --nemesis partition,kill --seed 7 --processes 6 \\
      --events 1 --seats 6 --out /tmp/small
  gzip -9 -n -c /tmp/small/history.jsonl > jepsen/testdata/run-small.jsonl.gz
(the run must keep a booking to the end and have a read during a booking).
"""

import copy
import gzip
import json
import os
import unittest

import checker

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "testdata", "run-small.jsonl.gz")


def completions(records):
    """(invoke index, completion index) of every completed operation."""
    open_ops, done = {}, []
    for i, r in enumerate(records):
        if r["type"] == "invoke":
            open_ops[r["process"]] = i
        elif r["process"] in open_ops:
            done.append((open_ops.pop(r["process"]), i))
    return done


class RealHistory(unittest.TestCase):
    def setUp(self):
        with gzip.open(FIXTURE, "rt") as f:
            self.records = [json.loads(line) for line in f if line.strip()]
        self.assertGreater(len(self.records), 100, "fixture too small to mean anything")

    def verdict(self, records):
        return checker.check(records)

    def test_recorded_run_is_valid(self):
        r = self.verdict(self.records)
        self.assertEqual(r["valid"], "valid", r)
        self.assertGreater(r["checks"]["final_reads"]["final_reads"], 0)

    def kept_booking_seat(self, recs):
        """(event, seat) of an acknowledged booking nobody tried to cancel."""
        spans = completions(recs)
        seats_of = {recs[c]["value"]["hold"]: recs[c]["value"]["seats"]
                    for i, c in spans if recs[c]["f"] == "hold" and recs[c]["type"] == "ok"}
        cancelled = {r["value"]["booking"] for r in recs
                     if r["f"] == "cancel" and r["type"] == "invoke"}
        for i, c in spans:
            if recs[c]["f"] == "book" and recs[c]["type"] == "ok" and \
                    recs[c]["value"]["booking"] not in cancelled:
                return recs[c]["event"], seats_of[recs[i]["value"]["hold"]][0]
        self.fail("the fixture ends with no booking kept")

    def test_lost_booking_in_a_final_read_is_rejected(self):
        recs = copy.deepcopy(self.records)
        event, seat = self.kept_booking_seat(recs)
        finals = [r for r in recs if r.get("final") and r["type"] == "ok"
                  and r["event"] == event]
        self.assertTrue(finals)
        self.assertNotEqual(finals[-1]["value"]["seats"][seat], "free")
        finals[-1]["value"]["seats"][seat] = "free"  # one replica lost it
        v = self.verdict(recs)
        self.assertEqual(v["checks"]["final_reads"]["result"], "invalid", v["checks"])
        self.assertEqual(v["valid"], "invalid")

    def test_stale_read_during_a_booking_is_rejected(self):
        recs = copy.deepcopy(self.records)
        spans = completions(recs)
        books = [(recs[c]["value"]["booking"], recs[i]["value"]["hold"], c)
                 for i, c in spans
                 if recs[c]["f"] == "book" and recs[c]["type"] == "ok"]
        seats_of = {recs[c]["value"]["hold"]: recs[c]["value"]["seats"]
                    for i, c in spans if recs[c]["f"] == "hold" and recs[c]["type"] == "ok"}
        cancel_start = {recs[i]["value"]["booking"]: i for i, c in spans
                        if recs[i]["f"] == "cancel"}
        for booking, hold, booked_at in books:
            until = cancel_start.get(booking, len(recs))
            for i, c in spans:
                r = recs[c]
                if i > booked_at and c < until and r["f"] == "read" and r["type"] == "ok" \
                        and not r.get("final") and r["event"] == recs[booked_at]["event"]:
                    seat = seats_of[hold][0]
                    self.assertNotEqual(r["value"]["seats"][seat], "free")
                    r["value"]["seats"][seat] = "free"
                    v = self.verdict(recs)
                    self.assertEqual(v["checks"]["linearizable"]["result"], "invalid")
                    self.assertEqual(v["valid"], "invalid")
                    return
        self.fail("the fixture has no read between a booking and its cancel")

    def test_key_applied_twice_is_rejected(self):
        recs = copy.deepcopy(self.records)
        for i, c in completions(recs):
            if recs[c]["f"] == "hold" and recs[c]["type"] == "ok":
                again_inv = copy.deepcopy(recs[i])
                again_ok = copy.deepcopy(recs[c])
                again_ok["value"]["hold"] += 1  # another hold for the same key
                again_inv["process"] = again_ok["process"] = 9999
                recs[c + 1:c + 1] = [again_inv, again_ok]
                break
        v = self.verdict(recs)
        self.assertEqual(v["checks"]["exactly_once"]["result"], "invalid")
        self.assertEqual(v["valid"], "invalid")


if __name__ == "__main__":
    unittest.main()
