"""Pilots: evaluation sets, metrics, statistics and the comparison runner (``ragtune compare``).

Submodules load lazily; ``stats`` needs only numpy.
"""
