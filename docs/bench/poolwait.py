#!/usr/bin/env python3
"""A queueing model of the write benchmark's connection pool (docs/benchmarks.md,
"a first-come-first-served write gate").

64 closed-loop clients share 16 connections; a request holds a connection
`stages` times (usersvc's PATCH: once, its one statement; the hand-written
reference: twice, the token read and the update), each hold exponential with
a mean of 3.2 ms / stages, so both spend the same time on the database. A
freed connection goes to a random waiter (database/sql's rule) or to the
longest waiter (FIFO). Nothing else queues, so only the pool's shape is
compared. Prints p50, p99 and their ratio per case.

    python3 docs/bench/poolwait.py
"""
import heapq
import random


def simulate(stages, policy, clients=64, conns=16, hold_ms=3.2, requests=200_000, seed=1):
    rnd = random.Random(seed)
    free, waiters, events, latencies = conns, [], [], []
    state = {}  # client -> (start of its request, holds left)

    def hold(client, now):
        heapq.heappush(events, (now + rnd.expovariate(stages / hold_ms), client))

    def want(client, now):
        nonlocal free
        if free:
            free -= 1
            hold(client, now)
        else:
            waiters.append(client)

    for c in range(clients):
        state[c] = (0.0, stages)
        want(c, 0.0)
    while len(latencies) < requests:
        now, c = heapq.heappop(events)
        if waiters:  # the freed connection goes straight to a waiter
            hold(waiters.pop(0 if policy == "fifo" else rnd.randrange(len(waiters))), now)
        else:
            free += 1
        start, left = state[c]
        if left == 1:
            latencies.append(now - start)
            state[c] = (now, stages)
        else:
            state[c] = (start, left - 1)
        want(c, now)
    latencies.sort()
    return latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99)]


if __name__ == "__main__":
    for stages, who in ((1, "one hold (usersvc PATCH)"), (2, "two holds (reference PATCH)")):
        for policy in ("random", "fifo"):
            p50, p99 = simulate(stages, policy)
            print(f"{who:28} {policy:6}  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  p99/p50 {p99 / p50:.2f}")
