"""Search domain: Japanese text, Whoosh index and searcher, coverage; geography in index.geo."""
