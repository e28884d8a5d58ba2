"""The usherd nodes of a Jepsen run, each in its namespace (net.py).

Node i keeps its data on its own small tmpfs (so the disk nemesis can fill
it), its log in RUN_DIR/n<i>.log (appended across restarts), and, when the
clock nemesis is on, runs under libfaketime reading its offset from
RUN_DIR/n<i>.clock ("+0", "+12s", "-5s"; re-read each second).
Only the wall clock is faked: election timers run on the monotonic clock.
"""

import os
import shutil
import signal
import subprocess
import time
import urllib.request

import net

FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
CLIENT_PORT, RAFT_PORT, HTTP_PORT = 7400, 7401, 7402
DATA_MB = 1024  # 4 shards reserve 64 MiB of LMDB blocks each (store.c)


class Cluster:
    def __init__(self, build, run_dir, n, shards, clock, cluster_id="a11ce5"):
        self.usherd = os.path.join(build, "src", "usherd")
        self.run_dir = run_dir
        self.n = n
        self.shards = shards
        self.clock = clock
        self.cluster_id = cluster_id
        self.procs = {}
        self.rejoin = set()  # nodes that lost their data, started with --rejoin 1
        self.peers = ",".join(
            "%d=%s:%d/%s:%d" % (i, net.addr(i), RAFT_PORT, net.addr(i), CLIENT_PORT)
            for i in self.ids())

    def ids(self):
        return range(1, self.n + 1)

    def client_addrs(self):
        return ["%s:%d" % (net.addr(i), CLIENT_PORT) for i in self.ids()]

    def data_dir(self, i):
        return os.path.join(self.run_dir, "n%d.data" % i)

    def clock_file(self, i):
        return os.path.join(self.run_dir, "n%d.clock" % i)

    def mount(self):
        """One tmpfs per node for its data."""
        for i in self.ids():
            d = self.data_dir(i)
            os.makedirs(d, exist_ok=True)
            net.sh("mount", "-t", "tmpfs", "-o", "size=%dm" % DATA_MB, "tmpfs", d)
            self.set_clock(i, 0)

    def start(self, i):
        if self.alive(i):
            return  # two faults may both restart it; one usherd per node
        env = dict(os.environ)
        if self.clock:
            env.update(LD_PRELOAD=FAKETIME_LIB,
                       FAKETIME_TIMESTAMP_FILE=self.clock_file(i),
                       FAKETIME_CACHE_DURATION="1",
                       FAKETIME_DONT_FAKE_MONOTONIC="1",
                       # An ASan build wants its runtime first; the
                       # preload is only libfaketime's clock calls.
                       ASAN_OPTIONS=":".join(filter(None, [
                           env.get("ASAN_OPTIONS"), "verify_asan_link_order=0"])))
        a = net.addr(i)
        cmd = ["ip", "netns", "exec", net.ns(i), self.usherd,
               "--node-id", str(i), "--data", os.path.join(self.data_dir(i), "usher"),
               "--shards", str(self.shards),
               "--listen", "%s:%d" % (a, CLIENT_PORT),
               "--raft", "%s:%d" % (a, RAFT_PORT),
               "--http", "%s:%d" % (a, HTTP_PORT),
               "--cluster-id", self.cluster_id, "--peers", self.peers,
               # Snapshots every few hundred entries, few entries kept
               # after them: a replica back from a kill or a partition
               # catches up by snapshot, under faults too.
               "--snapshot-threshold", "256", "--snapshot-trailing", "64"]
        if i in self.rejoin:
            # It lost its votes with its data (REPLICATION.md "Rejoining
            # after a lost disk"); left on for later starts, as an operator
            # might: a replica with its Raft metadata ignores it.
            cmd += ["--rejoin", "1"]
        log = open(os.path.join(self.run_dir, "n%d.log" % i), "ab")
        # ip netns exec execs usherd: the pid is usherd's own.
        self.procs[i] = subprocess.Popen(cmd, stdout=log, stderr=log, env=env,
                                         stdin=subprocess.DEVNULL)
        log.close()

    def alive(self, i):
        p = self.procs.get(i)
        return p is not None and p.poll() is None

    def exit_code(self, i):
        p = self.procs.get(i)
        return None if p is None else p.poll()

    def signal(self, i, sig):
        if self.alive(i):
            os.kill(self.procs[i].pid, sig)

    def kill(self, i):
        self.signal(i, signal.SIGCONT)
        self.signal(i, signal.SIGKILL)
        if i in self.procs:
            self.procs[i].wait()

    def wipe(self, i, flag):
        """SIGKILL node i and delete its data folder: a lost disk. Its next
        starts pass --rejoin 1 if flag; without it (an operator's slip) the
        replicas find out from the first vote request or entries."""
        self.kill(i)
        shutil.rmtree(os.path.join(self.data_dir(i), "usher"), ignore_errors=True)
        if flag:
            self.rejoin.add(i)
        else:
            self.rejoin.discard(i)  # an earlier wipe's flag is not this one's

    def healthy(self, i):
        url = "http://%s:%d/health" % (net.addr(i), HTTP_PORT)
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def events(self, i, kinds):
        """Node i's usher_node_events_total series named in kinds, as
        {kind: value}; {} when it does not answer. Counters start at 0 when
        a node restarts, so sums over a run with kills are lower bounds."""
        url = "http://%s:%d/metrics" % (net.addr(i), HTTP_PORT)
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                text = r.read().decode()
        except OSError:
            return {}
        out = {}
        for line in text.splitlines():
            for k in kinds:
                if line.startswith('usher_node_events_total{kind="%s"}' % k):
                    out[k] = int(float(line.split()[-1]))
        return out

    def wait_healthy(self, timeout_s):
        """Wait until every node answers 200 on /health; returns the ids
        that did not in time."""
        deadline = time.monotonic() + timeout_s
        pending = set(self.ids())
        while pending and time.monotonic() < deadline:
            pending = {i for i in pending if not self.healthy(i)}
            if pending:
                time.sleep(0.2)
        return sorted(pending)

    def set_clock(self, i, offset_s):
        """Shift node i's wall clock by offset_s seconds (libfaketime)."""
        tmp = self.clock_file(i) + ".tmp"
        with open(tmp, "w") as f:
            f.write("%+ds\n" % offset_s)
        os.replace(tmp, self.clock_file(i))

    def filler(self, i):
        return os.path.join(self.data_dir(i), "filler")

    def fill_disk(self, i):
        """Take every free byte of node i's tmpfs."""
        taken = 0
        with open(self.filler(i), "ab") as f:
            # The node writes meanwhile: what statvfs said is free may be
            # gone by the time we ask for it. Take what is left, in steps.
            for _ in range(8):
                st = os.statvfs(self.data_dir(i))
                free = st.f_bavail * st.f_frsize
                if free <= 0:
                    break
                try:
                    os.posix_fallocate(f.fileno(), taken, free)
                    taken += free
                except OSError:
                    continue
        return taken

    def free_disk(self, i):
        try:
            os.unlink(self.filler(i))
        except FileNotFoundError:
            pass

    def stop_all(self):
        """SIGTERM every node, then SIGKILL what is left after 10 s."""
        for i in self.ids():
            self.signal(i, signal.SIGCONT)
            self.signal(i, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for i in self.ids():
            p = self.procs.get(i)
            if p is None:
                continue
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.kill(i)
