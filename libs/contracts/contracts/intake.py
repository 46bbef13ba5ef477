"""Events produced by the intake service."""
