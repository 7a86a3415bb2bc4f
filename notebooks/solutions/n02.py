"""Reference solutions to notebook 02's exercises (try them yourself first)."""

import math


def grads_by_hand(a: float, b: float, c: float) -> tuple:
    """Exercise 1: (df/da, df/db, df/dc) for f = (a·b + c)², by the chain rule."""
    u = a * b + c          # f = u², so df/du = 2u
    df_du = 2 * u
    return df_du * b, df_du * a, df_du * 1.0


def sigmoid_local(n: float) -> float:
    """Exercise 2: the local derivative of the sigmoid at n, σ(n)(1 − σ(n))."""
    s = 1 / (1 + math.exp(-n))
    return s * (1 - s)


def topo_sort(root) -> list:
    """Exercise 3: every Value root depends on, each after its parents (a loop, no recursion)."""
    order, done, stack = [], set(), [(root, False)]
    while stack:
        v, parents_done = stack.pop()
        if parents_done:
            order.append(v)
        elif id(v) not in done:
            done.add(id(v))
            stack.append((v, True))
            stack.extend((p, False) for p in v.parents)
    return order
