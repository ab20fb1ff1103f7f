"""Numerical checks of gradients, Hypothesis strategies, and the grader of submissions."""

__all__: list[str] = []
