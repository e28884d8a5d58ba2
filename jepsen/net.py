"""The network of a Jepsen run: one namespace per node on a bridge.

Node i (1-based) lives in network namespace ujp-n<i> with address
10.77.0.<i>/24 on its eth0, a veth whose other end ujp-v<i> is enslaved to
the bridge ujp-br (10.77.0.254) in the root namespace, where the workload
runs. Faults are made with what this kernel has (no netem, no iptables):

- a cut between two nodes is a pair of blackhole routes, one in each
  namespace, so packets are dropped silently as by a real partition;
- a slow node is an htb rate limit on its eth0 (egress);
- a flaky link is a cut switched on and off at random (nemesis.py).

Every name starts with PREFIX so teardown() finds what any earlier run
left behind, even one that crashed.
"""

import subprocess

PREFIX = "ujp"
BRIDGE = PREFIX + "-br"
SUBNET = "10.77.0"
BRIDGE_ADDR = SUBNET + ".254"


def sh(*args, check=True):
    """Run a command; raise with its stderr when check and it fails."""
    p = subprocess.run(args, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def ns(i):
    return "%s-n%d" % (PREFIX, i)


def addr(i):
    return "%s.%d" % (SUBNET, i)


def namespaces():
    """Namespaces of ours that exist now."""
    out = sh("ip", "netns", "list", check=False).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.startswith(PREFIX + "-")]


def teardown():
    """Remove every namespace, veth and bridge of ours; kill what runs in
    our namespaces. Safe to call when nothing exists."""
    for name in namespaces():
        pids = sh("ip", "netns", "pids", name, check=False).stdout.split()
        for pid in pids:
            sh("kill", "-CONT", pid, check=False)
            sh("kill", "-KILL", pid, check=False)
        sh("ip", "netns", "del", name, check=False)
    links = sh("ip", "-o", "link", "show", check=False).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(PREFIX + "-"):
            sh("ip", "link", "del", name, check=False)


def setup(n):
    """Create the bridge and n node namespaces, all links up."""
    teardown()
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", BRIDGE_ADDR + "/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for i in range(1, n + 1):
        veth = "%s-v%d" % (PREFIX, i)
        sh("ip", "netns", "add", ns(i))
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
           "netns", ns(i))
        sh("ip", "link", "set", veth, "master", BRIDGE)
        sh("ip", "link", "set", veth, "up")
        sh("ip", "-n", ns(i), "link", "set", "lo", "up")
        sh("ip", "-n", ns(i), "addr", "add", addr(i) + "/24", "dev", "eth0")
        sh("ip", "-n", ns(i), "link", "set", "eth0", "up")


def cut(a, b):
    """Drop every packet between nodes a and b, both ways."""
    sh("ip", "-n", ns(a), "route", "replace", "blackhole", addr(b) + "/32")
    sh("ip", "-n", ns(b), "route", "replace", "blackhole", addr(a) + "/32")


def mend(a, b):
    sh("ip", "-n", ns(a), "route", "del", "blackhole", addr(b) + "/32", check=False)
    sh("ip", "-n", ns(b), "route", "del", "blackhole", addr(a) + "/32", check=False)


def partition(n, sides):
    """Cut every link between nodes that share no side. sides is a list of
    sets of node ids; a node in two sides (a bridge) talks to both."""
    cuts = []
    for a in range(1, n + 1):
        for b in range(a + 1, n + 1):
            if not any(a in s and b in s for s in sides):
                cut(a, b)
                cuts.append((a, b))
    return cuts


def heal(n):
    """Mend every link and lift every rate limit."""
    for i in range(1, n + 1):
        sh("ip", "-n", ns(i), "route", "flush", "type", "blackhole", check=False)
        slow(i, False)


def slow(i, on, rate="500kbit"):
    """Limit node i's outgoing traffic to rate (htb), or lift the limit."""
    if not on:
        sh("tc", "-n", ns(i), "qdisc", "del", "dev", "eth0", "root", check=False)
        return
    sh("tc", "-n", ns(i), "qdisc", "replace", "dev", "eth0", "root", "handle", "1:",
       "htb", "default", "10")
    sh("tc", "-n", ns(i), "class", "add", "dev", "eth0", "parent", "1:", "classid",
       "1:10", "htb", "rate", rate, "ceil", rate)
