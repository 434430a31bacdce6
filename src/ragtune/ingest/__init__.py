"""Ingestion: loaders by suffix, token-aware chunking, the incremental pipeline."""
