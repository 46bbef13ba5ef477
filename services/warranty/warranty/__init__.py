"""The warranty service."""
