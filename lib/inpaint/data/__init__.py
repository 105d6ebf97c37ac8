"""Real photographs: the datasets' registry and archives, decoding and the cache."""
