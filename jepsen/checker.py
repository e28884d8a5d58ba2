#!/usr/bin/env python3
"""Checker for usher Jepsen histories (format: jepsen/HISTORY.md).

Reads a JSON-lines history of hold / extend / book / release / cancel / read
operations and checks:

  linearizable    per seat, against the seat model (free, held by hold h until
                  t, booked by booking b; an extend moves t), by a WGL search
                  (Wing & Gong, with Lowe's just-in-time linearization and
                  memoised states); a hold of one seat refused with
                  SEAT_TAKEN is an operation without effect that must find
                  the seat taken (held by a live hold, or booked);
  multi_seat_refusals
                  a hold of several seats refused with SEAT_TAKEN needs one
                  of its seats that may have been taken during the refusal
                  (a simpler rule than the search: check_multi_seat_refusals);
  no_double_book  no two ok bookings cover one seat without a cancel between;
  exactly_once    no two distinct ok results for one (client, idempotency key);
  hold_expiry     no read shows a seat held, at a cluster time past the expiry
                  (+ clock bound) of every hold that could be holding it (the
                  expiry of its last ok extend, when one came before the read);
  final_reads     every ok booking not cancelled is booked in every final read.

Other refusals (fail) are dropped: they did not happen, and whether they were
justified is not checked.

Result per check and overall: "valid", "invalid" or "unknown" (the search
budget was hit). CLI: python3 jepsen/checker.py HISTORY.jsonl, prints a JSON
summary, exits 0 valid, 1 invalid, 2 unknown. Standard library only.
"""

import argparse
import bisect
import json
import sys

INF = float("inf")
NEG = -(1 << 62)          # "no cluster time known yet"
DEFAULT_BUDGET = 200_000  # search nodes per seat
FREE = ("free",)


# --------------------------------------------------------------------------
# Loading and pairing

class Op:
    """One operation: its invoke and its completion (ok / fail / info)."""

    def __init__(self, inv, pos):
        self.process = inv["process"]
        self.client = inv.get("client", inv["process"])
        self.key = inv.get("key")
        self.f = inv["f"]
        self.event = inv.get("event", 0)
        self.args = inv.get("value") or {}
        self.inv = pos            # line index of the invoke: real-time order
        self.ret = INF            # line index of the completion; INF = never
        self.type = "info"        # until a completion says otherwise
        self.out = {}
        self.final = False
        self.line = pos + 1       # for messages
        self.t_inv = inv.get("time_ns")  # harness clock, for latencies only
        self.t_ret = None         # set by a completion, info ones included

    def __repr__(self):
        return "%s(line %d, %s -> %s %s)" % (
            self.f, self.line, json.dumps(self.args, sort_keys=True),
            self.type, json.dumps(self.out, sort_keys=True))


def load(path):
    with open(path) as fh:
        return [json.loads(line) for line in fh if line.strip()]


def pair(records):
    """Match each invoke with the next completion of the same process.

    Positions are line numbers: the harness writes records in the order they
    happen, so line order is real-time order (time_ns is for plots). An invoke
    without completion stays info: it may or may not have happened."""
    ops, open_ops, problems = [], {}, []
    for pos, r in enumerate(records):
        p = r["process"]
        if r["type"] == "invoke":
            if p in open_ops:
                problems.append("line %d: process %r invokes twice" % (pos + 1, p))
            op = Op(r, pos)
            open_ops[p] = op
            ops.append(op)
        else:
            op = open_ops.pop(p, None)
            if op is None or op.f != r["f"]:
                problems.append("line %d: completion without invoke" % (pos + 1))
                continue
            op.type = r["type"]
            op.t_ret = r.get("time_ns")
            op.out = r.get("value") or {}
            op.final = bool(r.get("final") or op.args.get("final"))
            if op.type != "info":
                op.ret = pos
    return ops, problems


def merge_retries(ops):
    """Fold retries of one (client, key, f) into one operation.

    A client retries with the same key only when it did not learn the outcome,
    and the server applies a key at most once: so the attempts are one effect
    that may have happened as early as the first invoke. An ok attempt is the
    outcome (with the earliest invoke); a fail says none took effect (a refusal
    leaves no idempotency record); only infos stay one info. Distinct ok results
    are kept apart: exactly_once reports them.

    A hold refused with SEAT_TAKEN (is_seat_taken) is kept as well, with its
    own invoke: the server judged the seats taken during that attempt, which
    the model checks; other fails are dropped."""
    groups, out = {}, []
    for op in ops:
        if op.key is None or op.f == "read":
            out.append(op)
        else:
            groups.setdefault((op.client, op.key, op.f), []).append(op)
    for attempts in groups.values():
        out.extend(a for a in attempts if is_seat_taken(a))
        first_inv = min(a.inv for a in attempts)
        oks = [a for a in attempts if a.type == "ok"]
        if oks:
            seen = set()
            for a in oks:
                rid = result_id(a)
                if rid in seen:
                    continue      # a replayed reply: same effect
                seen.add(rid)
                a.inv = first_inv
                out.append(a)
        elif any(a.type == "fail" for a in attempts):
            continue
        else:
            attempts[0].inv = first_inv
            out.append(attempts[0])
    out.sort(key=lambda o: o.inv)
    return out


def is_seat_taken(op):
    """A hold the server refused with SEAT_TAKEN: one of its seats was held by
    a live hold or booked when the server judged it (HISTORY.md)."""
    return (op.f == "hold" and op.type == "fail"
            and op.out.get("error") == "SEAT_TAKEN")


def hold_seat_names(op):
    """The distinct seats a hold names, as strings, in order."""
    return list(dict.fromkeys(str(s) for s in op.args.get("seats", [])))


def result_id(op):
    if op.f == "hold":
        return op.out.get("hold")
    if op.f == "book":
        return op.out.get("booking")
    return json.dumps({k: v for k, v in op.out.items() if k != "now_ms"}, sort_keys=True)


# --------------------------------------------------------------------------
# What each operation touches

class Index:
    """Hold and booking ids learnt from ok replies, so that a book, release or
    cancel (which name only an id) can be placed on its seats."""

    def __init__(self, ops):
        self.holds = {}      # (event, hold id) -> op of the ok hold
        self.bookings = {}   # (event, booking id) -> op of the ok book
        for op in ops:
            if op.type == "ok" and op.f == "hold" and "hold" in op.out:
                self.holds[(op.event, op.out["hold"])] = op
        for op in ops:
            if op.type == "ok" and op.f == "book" and "booking" in op.out:
                self.bookings[(op.event, op.out["booking"])] = op

    def hold_seats(self, event, h):
        op = self.holds.get((event, h))
        if op is None:
            return None
        return [str(s) for s in op.out.get("seats", op.args.get("seats", []))]

    def seats(self, op):
        """The seats op acts on, or None when they cannot be known."""
        if "seats" in op.out and op.f != "read":
            return [str(s) for s in op.out["seats"]]
        if op.f == "hold":
            return [str(s) for s in op.args.get("seats", [])]
        if op.f in ("book", "release", "extend"):
            return self.hold_seats(op.event, op.args.get("hold"))
        if op.f == "cancel":
            b = self.bookings.get((op.event, op.args.get("booking")))
            return None if b is None else self.seats(b)
        if op.f == "read":
            return list(op.out.get("seats", {}).keys())
        return None


def hold_time(op):
    """Cluster time at which an ok hold or extend was applied, when the reply
    tells. Both set expires_at_ms = now + ttl on the server (docs/STATE.md,
    "Time rule"), so now = expires_at_ms - ttl_ms."""
    if "now_ms" in op.out:
        return op.out["now_ms"]
    ttl = op.args.get("ttl_ms", 0)
    if ttl and "expires_at_ms" in op.out:
        return op.out["expires_at_ms"] - ttl
    return None       # TTL 0 means the event's maximum: unknown here


# --------------------------------------------------------------------------
# The seat model
#
# A state is FREE, ("held", h, exp) for a known hold, ("held", None, lo) for
# a hold made by an info op (id unknown, expiry unknown but >= lo),
# ("held?", h, lo, hi) for a known hold h after an info extend (expiry
# unknown, lo <= expiry < hi: see step), or ("booked", b) with b None for a
# booking made by an info op. Beside the state the search keeps `clock`, the
# cluster time of the last linearized operation: cluster time never runs
# backwards along the Raft log.
#
# HOLD_EXTEND (src/inv_hold.c, inv_hold_apply_extend) is refused unless the
# hold is the customer's, not released, not booked and alive (now < expiry:
# HOLD_EXPIRED otherwise); it then sets expiry = now + ttl, which may be
# before the old expiry (an extend can shorten a hold) but not past
# created_at + hold_lifetime_max_ms (LIMIT_HOLD_LIFETIME). The checker does
# not know the event's limits, so it does not check that last bound (nor any
# refusal of an extend: those fails are dropped); it models the effect on the
# seats of the hold.
#
# A hold of one seat refused with SEAT_TAKEN is a "refuse" op: no effect, and
# legal only where the seat is taken (booked, or held by a hold alive at the
# refusal's time: clock, or the reply's now_ms if it has one), as a read
# showing "taken". It is required (it surely happened, inside its window),
# so the search must place it there. A known hold counts as alive up to
# expires_at_ms + clock_bound_ms, as in check_hold_expiry: a server may judge
# a refusal on its leader's own clock (`bound` below; 0 by default, exact).
# With a bound, an expired hold is not folded into FREE until the bound has
# passed too, and a hold of unknown expiry seen free becomes
# ("held", GONE, t): expired by t, which nothing can extend, book or release.
#
# An operation whose reply carries no cluster time is placed at the earliest
# time >= clock at which it can happen: a smaller clock never constrains the
# operations after it more, so this loses no linearization.

GONE = "expired"   # the id of a hold seen expired (no op names it)


class SeatOp:
    """One operation as seen by one seat (what the model needs)."""
    __slots__ = ("op", "kind", "inv", "ret", "required", "h", "b", "exp",
                 "t", "ttl", "status")

    def __init__(self, op, kind, **kw):
        self.op, self.kind = op, kind
        self.inv, self.ret = op.inv, op.ret
        # info ops may also never happen; an ok op, or a refusal, did
        self.required = kw.get("required", op.type == "ok")
        self.h = kw.get("h")
        self.b = kw.get("b")
        self.exp = kw.get("exp")
        self.t = kw.get("t")
        self.ttl = kw.get("ttl", 0)
        self.status = kw.get("status")


def _norm(state, clock, bound=0):
    # A known hold past its expiry is a free seat: it can never be booked or
    # released again, so folding it keeps the memo small. With a clock bound
    # a refusal may still see it alive until expiry + bound.
    if state[0] == "held" and state[1] is not None and clock >= state[2] + bound:
        return FREE
    return state


def _free_from(state, clock):
    """Earliest time >= clock at which the seat may be free, or None."""
    if state == FREE:
        return clock
    if state[0] in ("held", "held?"):
        return max(clock, state[2])     # the expiry, or its lower bound
    return None


def _alive(state, h, at):
    """May the seat be held by the known hold h, still alive, at time at?"""
    if h is None or state[0] not in ("held", "held?") or state[1] != h:
        return False
    if state[0] == "held":
        return at < state[2]
    return at < state[3]                # some expiry in [lo, hi) is > at


def _free_at(state, clock, t):
    """The earliest cluster time (not before t, when the reply gave one) at
    which the seat is free, or None."""
    tau = _free_from(state, clock)
    if tau is None or t is None:
        return tau
    return t if tau <= t else None


def step(state, clock, s, bound=0):
    """The (state, clock) pairs after linearizing s, [] if it cannot be.
    bound: the clock bound (ms) a refusal may take a hold to live past its
    expiry (see "refuse" above)."""
    k = s.kind
    if s.t is not None and s.t < clock:
        return []                       # its cluster time is in the past
    at = clock if s.t is None else s.t  # when it happens, if not free-bound
    if k == "hold":
        tau = _free_at(state, clock, s.t)
        if tau is None:
            return []
        if s.h is None:                 # info hold: unknown id and expiry
            return [(("held", None, tau + max(s.ttl, 1)), tau)]
        if s.exp is not None and tau >= s.exp:
            return []
        exp = s.exp if s.exp is not None else INF
        return [(_norm(("held", s.h, exp), tau), tau)]
    if k in ("book", "release"):
        if _alive(state, s.h, at):
            new = ("booked", s.b) if k == "book" else FREE
            return [(new, at)]
        return []
    if k == "extend":
        # Only the live hold h can be extended (else HOLD_EXPIRED, _RELEASED,
        # _BOOKED: the seat is free, booked or held by another hold here).
        if not _alive(state, s.h, at):
            return []
        if s.exp is not None:
            # ok: the reply gives the new expiry. Its apply time is before it
            # (TTL >= 1), which only matters when the reply gave no time.
            if at >= s.exp:
                return []
            return [(("held", s.h, s.exp), at)]
        # info: if it took effect (if not, the search leaves it out, as any
        # info op), it did so at an unknown time a with clock <= a < the old
        # expiry (or its upper bound), and set expiry = a + ttl. So the new
        # expiry is only known to lie in [clock + ttl, old + ttl): not "at
        # least the old one", as an extend may shorten the hold. TTL 0 (the
        # event's maximum) and an old expiry that is not bounded leave the
        # upper end open. Placing the extend at `clock` keeps the clock as
        # small as possible, which constrains later operations least.
        ttl = max(s.ttl, 1)
        old = state[2] if state[0] == "held" else state[3]
        hi = old + s.ttl if s.ttl else INF
        return [(("held?", s.h, at + ttl, hi), at)]
    if k == "cancel":
        if state[0] == "booked" and state[1] == s.b and s.b is not None:
            return [(FREE, at)]
        return []
    if k == "refuse":
        # SEAT_TAKEN, no effect. Placed at `at` (clock when the reply has no
        # time: the earliest admissible time, at which a hold is most alive).
        if state[0] == "booked":
            return [(state, at)]
        if state[0] in ("held", "held?") and (
                state[1] is None or _alive(state, state[1], at - bound)):
            return [(state, at)]
        return []
    if k == "read":
        want = s.status
        if want == "booked" or (want == "taken" and state[0] == "booked"):
            # taken: not free (an availability bitmap cannot tell which)
            return [(state, at)] if state[0] == "booked" else []
        if want in ("held", "taken"):
            if state[0] in ("held", "held?") and (
                    state[1] is None or _alive(state, state[1], at)):
                return [(state, at)]
            return []
        if want == "free":
            tau = _free_at(state, clock, s.t)
            if tau is None:
                return []
            # A hold of unknown expiry seen free has expired: for good (by
            # tau, which a refusal may still see within the clock bound).
            unknown = state[0] == "held?" or (state[0] == "held" and state[1] is None)
            if unknown:
                state = ("held", GONE, tau) if bound else FREE
            return [(_norm(state, tau, bound), tau)]
        return []
    return []


def seat_histories(ops, index, warnings):
    """Split the history into one list of SeatOps per (event, seat)."""
    per = {}

    def add(event, seat, s):
        per.setdefault((event, seat), []).append(s)

    for op in ops:
        if is_seat_taken(op):
            seats = hold_seat_names(op)
            if len(seats) == 1:      # several: check_multi_seat_refusals
                add(op.event, seats[0], SeatOp(op, "refuse", required=True,
                                               t=op.out.get("now_ms")))
            continue
        if op.type == "fail" or op.final:
            continue   # fail: did not happen; final reads: see check_final
        if op.f == "read":
            if op.type != "ok":
                continue
            t = op.out.get("now_ms")
            for seat, st in op.out.get("seats", {}).items():
                add(op.event, str(seat), SeatOp(op, "read", t=t, status=st))
            continue
        seats = index.seats(op)
        if seats is None:
            warnings.append("%r: seats unknown, left out" % op)
            continue
        ok = op.type == "ok"
        t = op.out.get("now_ms") if ok else None
        for seat in seats:
            if op.f == "hold":
                s = SeatOp(op, "hold", h=op.out.get("hold") if ok else None,
                           exp=op.out.get("expires_at_ms") if ok else None,
                           t=hold_time(op) if ok else None,
                           ttl=op.args.get("ttl_ms", 0))
            elif op.f in ("book", "release"):
                s = SeatOp(op, op.f, h=op.args.get("hold"), t=t,
                           b=op.out.get("booking") if ok else None)
            elif op.f == "extend":
                # exp None: an info extend (new expiry unknown, see step)
                s = SeatOp(op, "extend", h=op.args.get("hold"),
                           exp=op.out.get("expires_at_ms") if ok else None,
                           t=hold_time(op) if ok else None,
                           ttl=op.args.get("ttl_ms", 0))
            elif op.f == "cancel":
                s = SeatOp(op, "cancel", b=op.args.get("booking"), t=t)
            else:
                continue
            add(op.event, seat, s)
    return per


def _candidates(sops, unplaced):
    """Indexes of the unplaced ops that may come next, earliest invoke first:
    those invoked before the horizon, the earliest return of an unplaced ok
    op. sops is sorted by invoke, so the walk over the unplaced bits stops at
    the first op invoked at or after the horizon: no later op can be a
    candidate, nor lower the horizon (it returns after it is invoked). The
    walk so costs the ops still open, not the whole history."""
    horizon = INF
    seen = []
    while unplaced:
        low = unplaced & -unplaced
        unplaced ^= low
        i = low.bit_length() - 1
        s = sops[i]
        if s.inv >= horizon:
            break
        seen.append(i)
        if s.required and s.ret < horizon:
            horizon = s.ret
    return [i for i in seen if sops[i].inv < horizon]


def check_seat(sops, budget=DEFAULT_BUDGET, clock_bound_ms=0):
    """WGL search of one seat's history.

    Returns ("valid" | "invalid" | "unknown", detail). The search linearizes,
    depth first, any pending operation invoked before the earliest return of
    the required (ok) operations still pending; info operations return never,
    so they may be linearized at any later point or left out. (mask, state,
    clock) triples already explored are not explored again."""
    sops = sorted(sops, key=lambda s: s.inv)
    n = len(sops)
    need = 0
    for i, s in enumerate(sops):
        if s.required:
            need |= 1 << i
    full = (1 << n) - 1
    seen = set()
    stack = [(0, FREE, NEG)]
    nodes = 0
    best = 0          # the explored mask with the most ok ops placed
    best_count = 0
    while stack:
        mask, state, clock = stack.pop()
        if mask & need == need:
            return "valid", {"nodes": nodes}
        if (mask, state, clock) in seen:
            continue
        seen.add((mask, state, clock))
        nodes += 1
        if nodes > budget:
            return "unknown", {"nodes": nodes, "budget": budget}
        placed = (mask & need).bit_count()
        if placed > best_count:
            best, best_count = mask, placed
        for i in reversed(_candidates(sops, ~mask & full)):
            for st2, c2 in step(state, clock, sops[i], clock_bound_ms):
                stack.append((mask | 1 << i, st2, c2))
    # not linearizable: name the first required op the search never got past
    stuck = [repr(s.op) for i, s in enumerate(sops)
             if s.required and not best >> i & 1]
    return "invalid", {"nodes": nodes,
                       "linearized_ok_ops": bin(best & need).count("1"),
                       "first_unplaceable": stuck[0] if stuck else None}


def check_linearizable(ops, index, budget=DEFAULT_BUDGET, warnings=None,
                       clock_bound_ms=0):
    warnings = [] if warnings is None else warnings
    per = seat_histories(ops, index, warnings)
    result, errors, unknown = "valid", [], []
    for (event, seat), sops in sorted(per.items(), key=lambda kv: str(kv[0])):
        verdict, detail = check_seat(sops, budget, clock_bound_ms)
        if verdict == "invalid":
            errors.append(dict(event=event, seat=seat, **detail))
        elif verdict == "unknown":
            unknown.append(dict(event=event, seat=seat, **detail))
    if errors:
        result = "invalid"
    elif unknown:
        result = "unknown"
    refusals = sum(s.kind == "refuse" for sops in per.values() for s in sops)
    return {"result": result, "seats": len(per), "errors": errors,
            "unknown": unknown, "refusals": refusals}


# --------------------------------------------------------------------------
# The other properties

def _bookings_by_seat(ops, index):
    per = {}
    for op in ops:
        if op.f == "book" and op.type == "ok":
            for seat in index.seats(op) or []:
                per.setdefault((op.event, seat), []).append(op)
    return per


def _cancels(ops):
    """(event, booking id) -> cancel ops that may have happened (ok or info)."""
    out = {}
    for op in ops:
        if op.f == "cancel" and op.type in ("ok", "info"):
            out.setdefault((op.event, op.args.get("booking")), []).append(op)
    return out


def check_double_book(ops, index):
    """Two ok bookings of one seat need a cancel of one of them that may have
    come before the other: invoked before the other completed."""
    cancels = _cancels(ops)
    errors = []

    def cancelled_before(a, b):
        return any(c.inv < b.ret
                   for c in cancels.get((a.event, a.out.get("booking")), []))

    for (event, seat), books in _bookings_by_seat(ops, index).items():
        for i in range(len(books)):
            for j in range(i + 1, len(books)):
                a, b = books[i], books[j]
                if a.out.get("booking") == b.out.get("booking"):
                    continue
                if not (cancelled_before(a, b) or cancelled_before(b, a)):
                    errors.append({"event": event, "seat": seat,
                                   "bookings": [repr(a), repr(b)]})
    return {"result": "invalid" if errors else "valid", "errors": errors}


def check_exactly_once(ops):
    """Distinct ok hold / booking ids for one (client, key) mean the key took
    effect twice; so do two expiries for one extend key (a replay returns the
    stored result, new expiry included). Runs on the unmerged operations."""
    ids = {}
    for op in ops:
        if (op.type == "ok" and op.key is not None
                and op.f in ("hold", "book", "extend")):
            ids.setdefault((op.client, op.key), {}).setdefault(
                json.dumps(result_id(op)), op)
    errors = [{"client": c, "key": k, "results": [repr(o) for o in d.values()]}
              for (c, k), d in ids.items() if len(d) > 1]
    return {"result": "invalid" if errors else "valid", "errors": errors}


def _expiries_at(hold, read, extends):
    """The expiries the ok hold `hold` may have had when `read` was applied,
    or None when unknown (an info extend of it may have come before).

    An ok extend replaces the expiry with its own (which may be earlier). This
    check does not linearize, so it takes the order from real time: an extend
    that returned before the read was invoked came before it ("surely"), one
    invoked after the read returned came after, the others may have. The
    expiry at the read is then the hold's own unless an extend surely came
    before, or that of any extend that may have come before, unless another
    extend surely came between it and the read. Taking every possibility
    keeps the check free of false alarms; the model (check_linearizable)
    judges the exact order."""
    exts = [e for e in extends if e.inv < read.ret]
    if any(e.type != "ok" or "expires_at_ms" not in e.out for e in exts):
        return None
    sure = [e for e in exts if e.ret < read.inv]
    out = [] if sure else [hold.out["expires_at_ms"]]
    for e in exts:
        if not any(e.ret < e2.inv for e2 in sure):
            out.append(e.out["expires_at_ms"])
    return out


def check_hold_expiry(ops, index, clock_bound_ms=0):
    """A read at cluster time now_ms may show a seat held only if some hold
    that could be holding it is alive: now_ms < expires_at_ms + clock_bound_ms,
    where expires_at_ms is the hold's or that of its last ok extend before the
    read (_expiries_at).

    If the read names the hold ("holders": {seat: hold id}) only that hold is
    judged. Otherwise every hold of the seat invoked before the read returned
    is a candidate, and an info hold or an info extend (expiry unknown)
    excuses the read."""
    holds, extends = {}, {}
    for op in ops:
        if op.f == "hold" and op.type in ("ok", "info"):
            for seat in index.seats(op) or []:
                holds.setdefault((op.event, seat), []).append(op)
        if op.f == "extend" and op.type in ("ok", "info"):
            extends.setdefault((op.event, op.args.get("hold")), []).append(op)
    errors = []

    def expiries(hold, read):
        if hold.type != "ok" or "expires_at_ms" not in hold.out:
            return None
        return _expiries_at(hold, read,
                            extends.get((hold.event, hold.out.get("hold")), []))

    def expired(exps, now):
        return all(now >= e + clock_bound_ms for e in exps)

    for op in ops:
        if op.f != "read" or op.type != "ok" or "now_ms" not in op.out:
            continue
        now = op.out["now_ms"]
        holders = op.out.get("holders", {})
        for seat, st in op.out.get("seats", {}).items():
            if st != "held":
                continue
            seat = str(seat)
            if seat in holders:
                hold = index.holds.get((op.event, holders[seat]))
                exps = None if hold is None else expiries(hold, op)
                if exps is not None and expired(exps, now):
                    errors.append({"read": repr(op), "seat": seat,
                                   "hold": holders[seat],
                                   "expires_at_ms": max(exps, default=None)})
                continue
            cands = [h for h in holds.get((op.event, seat), []) if h.inv < op.ret]
            exps = [expiries(h, op) for h in cands]
            if any(e is None for e in exps):
                continue
            if all(expired(e, now) for e in exps):
                errors.append({"read": repr(op), "seat": seat,
                               "holds": [repr(h) for h in cands]})
    return {"result": "invalid" if errors else "valid", "errors": errors,
            "clock_bound_ms": clock_bound_ms}


def cluster_time(op):
    """The cluster time an ok operation's reply gives, or None."""
    if op.type != "ok" or op.final:
        return None
    if op.f in ("hold", "extend"):
        return hold_time(op)
    return op.out.get("now_ms")


def _taker_ends(sops, passed):
    """For one seat: (invoke, end) of every op that may have taken the seat,
    sorted by invoke. An ok or info hold or book may hold the seat from its
    invoke on; `end` is the first line position from which it surely no
    longer does (INF: maybe never ends):

      hold h    an ok release or book of h returned (a book hands the seat
                to its booking, a taker of its own), or a cluster time at or
                past its last possible expiry was seen (passed(E)): E is the
                largest expiry of the hold and its ok extends, plus the TTL
                of each info extend (one applies before the expiry it moves,
                so it adds less than its TTL); an info extend of TTL 0 (the
                event's maximum), an info hold (expiry unknown) or no expiry
                in the reply: never;
      booking b an ok cancel of b returned; an info book (id unknown): never.
    """
    ends_of_hold, cancels, extends = {}, {}, {}
    for s in sops:
        if s.op.type != "ok":
            if s.kind == "extend":
                extends.setdefault(s.h, []).append(s)
            continue
        if s.kind in ("release", "book") and s.h is not None:
            ends_of_hold[s.h] = min(ends_of_hold.get(s.h, INF), s.ret + 1)
        elif s.kind == "cancel" and s.b is not None:
            cancels[s.b] = min(cancels.get(s.b, INF), s.ret + 1)
        elif s.kind == "extend":
            extends.setdefault(s.h, []).append(s)
    out = []
    for s in sops:
        if s.kind == "hold":
            if s.op.type != "ok" or s.h is None or s.exp is None:
                out.append((s.inv, INF))
                continue
            last = s.exp
            for e in extends.get(s.h, []):
                if e.op.type == "ok":
                    last = max(last, e.exp if e.exp is not None else INF)
            for e in extends.get(s.h, []):
                if e.op.type != "ok":
                    last = last + e.ttl if e.ttl else INF
            out.append((s.inv, min(ends_of_hold.get(s.h, INF), passed(last))))
        elif s.kind == "book":
            end = cancels.get(s.b, INF) if s.op.type == "ok" and s.b is not None else INF
            out.append((s.inv, end))
    out.sort(key=lambda x: x[0])
    return out


def check_multi_seat_refusals(ops, index, clock_bound_ms=0):
    """A hold of several seats refused with SEAT_TAKEN needs one of its seats
    that may have been taken at some point of the refusal's window: a seat
    is taken during [invoke, return] by an ok or info hold or book of it
    invoked before the return whose holding (_taker_ends) had not surely
    ended by the invoke. A hold surely expired once an operation of the same
    event returned, before the refusal's invoke, with a cluster time at or
    past its last possible expiry + clock_bound_ms (cluster time grows along
    the event's log, and the refusal came after that operation).

    This is a simpler rule than the search that judges one-seat refusals
    (linearizable): it never reports a refusal that some order of the event's
    operations (consistent with real time and the cluster times of their
    replies) could justify, but it can miss one: it takes every
    hold and book that may have happened as having happened, as early as its
    invoke, and does not learn expiries from reads that show a seat free."""
    refusals = [op for op in ops if is_seat_taken(op)
                and len(hold_seat_names(op)) > 1]
    if not refusals:
        return {"result": "valid", "errors": [], "refusals": 0,
                "clock_bound_ms": clock_bound_ms}
    # per event: cluster times seen, by the line of their operation's return
    times = {}
    for op in ops:
        t = cluster_time(op)
        if t is not None and op.ret != INF:
            times.setdefault(op.event, []).append((op.ret, t))
    highs = {}
    for event, ts in times.items():
        ts.sort()
        run, hi = NEG, []
        for _, t in ts:
            run = max(run, t)
            hi.append(run)
        highs[event] = ([r for r, _ in ts], hi)

    def passed_fn(event):
        rets, hi = highs.get(event, ([], []))

        def passed(expiry):
            """The first line from which a cluster time >= expiry + bound
            has been seen (returned before it), or INF."""
            if expiry == INF:
                return INF
            i = bisect.bisect_left(hi, expiry + clock_bound_ms)
            return rets[i] + 1 if i < len(rets) else INF
        return passed

    per = seat_histories(ops, index, [])
    takers = {}      # (event, seat) -> (invokes, running max of ends)

    def seat_takers(event, seat):
        if (event, seat) not in takers:
            pairs = _taker_ends(per.get((event, seat), []), passed_fn(event))
            run, ends = -1, []
            for _, end in pairs:
                run = max(run, end)
                ends.append(run)
            takers[(event, seat)] = ([i for i, _ in pairs], ends)
        return takers[(event, seat)]

    def may_be_taken(event, seat, r):
        invs, ends = seat_takers(event, seat)
        i = bisect.bisect_left(invs, r.ret)     # takers invoked before r.ret
        return i > 0 and ends[i - 1] > r.inv

    errors = []
    for r in refusals:
        seats = hold_seat_names(r)
        if not any(may_be_taken(r.event, seat, r) for seat in seats):
            errors.append({"refusal": repr(r), "event": r.event, "seats": seats})
    return {"result": "invalid" if errors else "valid", "errors": errors,
            "refusals": len(refusals), "clock_bound_ms": clock_bound_ms}


def check_final_reads(ops, index):
    """Every ok booking with no cancel that may have happened (ok or info)
    must be booked in every final read; a seat missing from a final read of
    its event counts as lost."""
    finals = [op for op in ops if op.f == "read" and op.type == "ok" and op.final]
    cancels = _cancels(ops)
    errors = []
    kept = 0
    for b in ops:
        if b.f != "book" or b.type != "ok":
            continue
        if cancels.get((b.event, b.out.get("booking"))):
            continue
        kept += 1
        for r in finals:
            if r.event != b.event:
                continue
            for seat in index.seats(b) or []:
                st = r.out.get("seats", {}).get(seat)
                if st not in ("booked", "taken"):
                    errors.append({"booking": repr(b), "seat": seat,
                                   "final_read": repr(r), "shown": st})
    # bookings_kept says how much the check saw: a run whose every booking
    # was cancelled checks nothing here (jepsen/run refuses such a run).
    return {"result": "invalid" if errors else "valid", "errors": errors,
            "final_reads": len(finals), "bookings_kept": kept}


# --------------------------------------------------------------------------
# Everything

def check(records, budget=DEFAULT_BUDGET, clock_bound_ms=0):
    """Run every check on a list of history records; returns the summary."""
    raw, problems = pair(records)
    ops = merge_retries(raw)
    index = Index(ops)
    warnings = list(problems)
    checks = {
        "linearizable": check_linearizable(ops, index, budget, warnings,
                                           clock_bound_ms),
        "multi_seat_refusals": check_multi_seat_refusals(ops, index,
                                                         clock_bound_ms),
        "no_double_book": check_double_book(ops, index),
        "exactly_once": check_exactly_once(raw),
        "hold_expiry": check_hold_expiry(ops, index, clock_bound_ms),
        "final_reads": check_final_reads(ops, index),
    }
    results = [c["result"] for c in checks.values()]
    if "invalid" in results or problems:
        valid = "invalid"       # a malformed history proves nothing
    elif "unknown" in results:
        valid = "unknown"
    else:
        valid = "valid"
    return {"valid": valid, "ops": len(raw), "checks": checks,
            "warnings": warnings}


EXIT = {"valid": 0, "invalid": 1, "unknown": 2}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("history", help="JSON-lines history (jepsen/HISTORY.md)")
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                    help="search nodes per seat before 'unknown' (default %(default)s)")
    ap.add_argument("--clock-bound-ms", type=int, default=0,
                    help="slack for hold expiry against read times and "
                    "SEAT_TAKEN refusals (default 0)")
    args = ap.parse_args(argv)
    summary = check(load(args.history), args.budget, args.clock_bound_ms)
    json.dump(summary, sys.stdout, indent=2, default=str)
    print()
    return EXIT[summary["valid"]]


if __name__ == "__main__":
    sys.exit(main())
