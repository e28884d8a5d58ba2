"""The nemesis of a Jepsen run: faults scheduled at random from a seed.

A lane runs one fault at a time: start, hold it 3 to 8 s, stop it, quiet
1 to 4 s, repeat until the load ends. Without overlap one lane runs every
kind; with overlap a network lane (partition, slow, flaky) and a process
lane (kill, pause, clock, disk) run side by side. Every start and stop is a line of
RUN_DIR/nemesis.jsonl on the workload's clock (CLOCK_MONOTONIC ns), for the
plot and for people. Kinds:

  partition  random halves, a minority cut off, the leader isolated, a
             bridge (two halves that both see one node), or a ring where
             each node sees only its neighbours
  kill       SIGKILL the leader, a minority or (1 time in 6) a majority;
             restart at stop
  pause      SIGSTOP the leader, a minority or a majority; SIGCONT at stop
  clock      shift some nodes' wall clock by -20..+20 s; reset at stop
  slow       limit some nodes' outgoing traffic to 500 kbit/s
  flaky      cut and mend a random link every 20-200 ms (a lossy link)
  disk       fill one node's data tmpfs; free it at stop and restart the
             node if it died (it should: a failed Raft append aborts it)
  wipe       SIGKILL one node (the leader half the time) and delete its data
             folder, a lost disk; at stop it starts empty, half the time
             with --rejoin 1, and catches up from the others
"""

import json
import os
import random
import signal
import subprocess
import threading
import time

import net

KINDS = ["partition", "kill", "pause", "clock", "slow", "flaky", "disk", "wipe"]
NETWORK = {"partition", "slow", "flaky"}  # the network lane of --overlap


class Nemesis:
    def __init__(self, cluster, kinds, seed, log_path, usher_cli):
        self.c = cluster
        self.kinds = kinds
        self.rng = random.Random(seed)
        self.log = open(log_path, "a")
        self.usher_cli = usher_cli
        self.stop_event = threading.Event()
        self.flaky_stop = None
        self.counts = {k: 0 for k in kinds}
        self.threads = []
        self.lock = threading.Lock()  # lanes share the log
        self.error = None

    def record(self, typ, f, value):
        with self.lock:
            self.log.write(json.dumps({"time_ns": time.monotonic_ns(), "type": typ,
                                       "f": f, "value": value}) + "\n")
            self.log.flush()

    # -- choosing targets -------------------------------------------------

    def leader(self):
        """The node leading event 1's shard, or None."""
        env = dict(os.environ, USHER_NODES=",".join(self.c.client_addrs()))
        p = subprocess.run([self.usher_cli, "--timeout", "2s", "--json", "where", "1"],
                           capture_output=True, text=True, env=env)
        try:
            lid = json.loads(p.stdout).get("leader_id", 0)
        except ValueError:
            return None
        return lid if lid in self.c.ids() else None

    def some_nodes(self, rng, allow_leader=True):
        """The leader, one or two nodes (a minority), or now and then a
        majority, so that shards also lose their quorum and get it back."""
        ids = list(self.c.ids())
        if allow_leader and rng.random() < 0.3:
            lead = self.leader()
            if lead is not None:
                return [lead]
        count = rng.choice([1, 1, 2, 2, 2, len(ids) // 2 + 1])
        return sorted(rng.sample(ids, count))

    def partition_sides(self, rng):
        ids = list(self.c.ids())
        rng.shuffle(ids)
        shape = rng.choice(["halves", "minority", "leader", "bridge", "ring"])
        if shape == "leader":
            lead = self.leader() or ids[0]
            return shape, [{lead}, set(ids) - {lead}]
        if shape == "minority":
            k = rng.choice([1, 2])
            return shape, [set(ids[:k]), set(ids[k:])]
        if shape == "bridge":
            mid = len(ids) // 2
            return shape, [set(ids[:mid + 1]), set(ids[mid:])]
        if shape == "ring":
            n = len(ids)
            return shape, [{ids[k], ids[(k + 1) % n]} for k in range(n)]
        mid = len(ids) // 2
        return shape, [set(ids[:mid]), set(ids[mid:])]

    # -- faults -----------------------------------------------------------

    def start(self, kind, rng):
        """Start a fault; returns (value for the log, undo function)."""
        n = self.c.n
        if kind == "partition":
            shape, sides = self.partition_sides(rng)
            cuts = net.partition(n, sides)
            return {"shape": shape, "sides": [sorted(s) for s in sides]}, \
                lambda: [net.mend(a, b) for a, b in cuts]
        if kind == "kill":
            nodes = self.some_nodes(rng)
            for i in nodes:
                self.c.kill(i)
            return {"nodes": nodes}, lambda: [self.c.start(i) for i in nodes]
        if kind == "pause":
            nodes = self.some_nodes(rng)
            for i in nodes:
                self.c.signal(i, signal.SIGSTOP)
            return {"nodes": nodes}, \
                lambda: [self.c.signal(i, signal.SIGCONT) for i in nodes]
        if kind == "clock":
            nodes = self.some_nodes(rng)
            shifts = {i: rng.randint(-20, 20) for i in nodes}
            for i, s in shifts.items():
                self.c.set_clock(i, s)
            return {"shift_s": shifts}, \
                lambda: [self.c.set_clock(i, 0) for i in nodes]
        if kind == "slow":
            nodes = self.some_nodes(rng, allow_leader=False)
            for i in nodes:
                net.slow(i, True)
            return {"nodes": nodes}, lambda: [net.slow(i, False) for i in nodes]
        if kind == "flaky":
            a, b = sorted(rng.sample(list(self.c.ids()), 2))
            stop = threading.Event()
            t = threading.Thread(target=self.flap, args=(a, b, stop,
                                                         rng.randrange(1 << 30)))
            t.start()
            return {"link": [a, b]}, lambda: (stop.set(), t.join(), net.mend(a, b))
        if kind == "disk":
            i = rng.choice(list(self.c.ids()))
            taken = self.c.fill_disk(i)
            return {"node": i, "bytes": taken}, lambda: self.disk_undo(i)
        if kind == "wipe":
            # One node: a lost disk is a failure, and a shard survives a
            # minority of failures, not a wiped node plus a killed one.
            leader = self.leader()
            i = leader if leader is not None and rng.random() < 0.5 \
                else rng.choice(list(self.c.ids()))
            flag = rng.random() < 0.5
            self.c.wipe(i, flag)
            return {"node": i, "rejoin_flag": flag}, lambda: self.c.start(i)
        raise ValueError("unknown nemesis " + kind)

    def flap(self, a, b, stop, seed):
        rng = random.Random(seed)
        down = False
        while not stop.is_set():
            if down:
                net.mend(a, b)
            else:
                net.cut(a, b)
            down = not down
            stop.wait(rng.uniform(0.02, 0.2))
        net.mend(a, b)

    def disk_undo(self, i):
        self.c.free_disk(i)
        if not self.c.alive(i):
            self.record("info", "disk", {"node": i, "died": True,
                                         "exit": self.c.exit_code(i)})
            self.c.start(i)

    # -- schedule ---------------------------------------------------------

    def run(self, kinds, rng, until):
        """One lane: inject faults of kinds, one at a time, until
        time.monotonic() passes until. A fault that cannot be made or undone
        ends the lane and voids the run."""
        try:
            self.schedule(kinds, rng, until)
        except Exception as e:  # noqa: BLE001: any failure voids the run
            self.error = "%s: %s" % (type(e).__name__, e)
            self.record("error", "nemesis", {"error": self.error})

    def schedule(self, kinds, rng, until):
        while not self.stop_event.is_set() and time.monotonic() < until:
            kind = rng.choice(kinds)
            value, undo = self.start(kind, rng)
            self.counts[kind] += 1
            self.record("start", kind, value)
            self.stop_event.wait(min(rng.uniform(3, 8), max(0.0, until - time.monotonic())))
            undo()
            self.record("stop", kind, value)
            self.stop_event.wait(rng.uniform(1, 4))

    def start_thread(self, until, overlap):
        """Start the schedule. With overlap, network faults (one lane) and
        process faults (another) run at the same time, each lane one fault
        at a time: a partition may meet a kill, a pause or a full disk.
        Faults of one lane never overlap, so their undos cannot collide."""
        lanes = [[k for k in self.kinds if k in NETWORK],
                 [k for k in self.kinds if k not in NETWORK]]
        if not overlap:
            lanes = [list(self.kinds)]
        for n, kinds in enumerate(k for k in lanes if k):
            rng = random.Random(self.rng.randrange(1 << 62) + n)
            t = threading.Thread(target=self.run, args=(kinds, rng, until))
            t.start()
            self.threads.append(t)

    def join(self):
        self.stop_event.set()
        for t in self.threads:
            t.join()

    def heal_all(self):
        """Undo everything any fault may have left: links, rate limits,
        clocks, full disks, paused and dead nodes."""
        net.heal(self.c.n)
        for i in self.c.ids():
            self.c.free_disk(i)
            self.c.set_clock(i, 0)
            self.c.signal(i, signal.SIGCONT)
            if not self.c.alive(i):
                self.record("info", "restart", {"node": i, "exit": self.c.exit_code(i)})
                self.c.start(i)
        self.log.close()
