"""Text helpers shared by retrieval, strategies, data building and the judge."""
