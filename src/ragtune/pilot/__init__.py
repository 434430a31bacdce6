"""``ragtune pilot``: the main job end to end (see :mod:`ragtune.pilot.run`)."""
