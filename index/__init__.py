"""Search domain: Japanese text, geocoding, Whoosh index and searcher."""
