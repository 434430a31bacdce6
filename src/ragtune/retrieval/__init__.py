"""Retrieval: BM25, dense, hybrid fusion, reranking, filters and ACL."""
