"""Events produced by the warranty service."""
