"""Metrics for the pilots: answers, retrieval, RAGAS-style judgements, citations.

Each metric is computed per question (NaN where it does not apply, e.g. token F1 on an
unanswerable question); :mod:`ragtune.evaluation.stats` turns them into means with CIs.
"""
