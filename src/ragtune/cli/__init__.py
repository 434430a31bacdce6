"""Command line: one module per noun; errors become one line at this edge."""
