"""Events produced by the inventory service."""
