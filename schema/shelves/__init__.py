"""Bookshelf types and operations."""
