"""Search and discovery: one document per listing, full-text with relevance and typo
tolerance, facets, distance, availability-aware results, suggestions and recommendations —
on SQLite (FTS5, R*Tree) and PostgreSQL (tsvector, pg_trgm, earthdistance) behind one
selector."""
