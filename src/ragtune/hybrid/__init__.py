"""Hybrids of fine-tuning and retrieval: RAFT training data (:mod:`ragtune.hybrid.raft`)
and adapter routing per department or document (:mod:`ragtune.hybrid.routing`)."""
