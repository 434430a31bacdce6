"""Embedding backends, chosen by name from :data:`ragtune.registry.embedders`."""
