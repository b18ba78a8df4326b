#!/usr/bin/python3
"""Purchases simulated from BG/NBD and Gamma-Gamma themselves, as CSV
for `nudge event import --create`: simulate.py N SEED r alpha a b p q gamma.

Each customer first buys on one of the 13 weeks' days from 2025-01-06,
buys again at the rate lambda ~ Gamma(r, scale 1/alpha) a week, and after
each repeat purchase stops for good with the chance P ~ Beta(a, b); the
period ends on 2026-01-05 (52 weeks).  Each order's value is
Gamma(p, scale 1/nu), nu ~ Gamma(q, scale 1/gamma).  Purchases are dated
to the day (two on one day count once in nudge, as in the papers)."""
import datetime
import random
import sys

n, seed = int(sys.argv[1]), int(sys.argv[2])
r, alpha, a, b, p, q, gam = map(float, sys.argv[3:10])
rng = random.Random(seed)
start = datetime.date(2025, 1, 6)
end = 52 * 7


def emit(i, day, nu):
    print("s%05d@sim.example,purchase,%s,%.2f" % (
        i, start + datetime.timedelta(days=int(day)),
        rng.gammavariate(p, 1 / nu)))


print("email,type,at,total")
for i in range(n):
    lam = rng.gammavariate(r, 1 / alpha) / 7  # a day
    drop = rng.betavariate(a, b)
    nu = rng.gammavariate(q, 1 / gam)
    t = rng.randrange(0, 91)
    emit(i, t, nu)
    while True:
        t += rng.expovariate(lam)
        if t >= end:
            break
        emit(i, t, nu)
        if rng.random() < drop:
            break
