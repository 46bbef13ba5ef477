"""Events produced by the dispatch service."""
