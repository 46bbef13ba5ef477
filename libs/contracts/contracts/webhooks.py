"""Events produced by the webhooks service."""
