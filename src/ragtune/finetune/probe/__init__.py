"""A small general-ability probe (our own writing) for measuring forgetting."""
