"""E-book types and operations."""
