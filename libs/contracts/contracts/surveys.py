"""Events produced by the surveys service."""
