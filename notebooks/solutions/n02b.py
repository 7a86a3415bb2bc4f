"""Reference solutions to notebook 02b's exercises (try them yourself first)."""

import math


def exp(self):
    """Exercise 1: e^x, whose local derivative is e^x itself (the output's data)."""
    out = type(self)(math.exp(self.data), (self,), "exp")

    def _backward():
        self.grad += out.data * out.grad
    out._backward = _backward
    return out


def power(self, k: float):
    """Exercise 2: x**k for a number k: local derivative k · x**(k - 1)."""
    out = type(self)(self.data ** k, (self,), f"**{k}")

    def _backward():
        self.grad += k * self.data ** (k - 1) * out.grad
    out._backward = _backward
    return out


def topo_iterative(root) -> list:
    """Exercise 3: a topological order with an explicit stack instead of recursion."""
    order, seen, stack = [], set(), [(root, False)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
        elif v not in seen:
            seen.add(v)
            stack.append((v, True))
            stack.extend((p, False) for p in v._prev)
    return order
