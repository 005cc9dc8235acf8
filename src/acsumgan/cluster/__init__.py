"""Per-item work on Ray (``--executor ray``): :mod:`.pool`. Ray is imported only when used."""
