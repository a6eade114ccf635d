"""SQLite backend whose writers queue on a kernel lock (see `base`)."""
