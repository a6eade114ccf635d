"""Quote requests, quotes, the matching engine (pure scoring) and automatic assignment."""
