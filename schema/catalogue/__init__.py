"""Catalogue types and queries: records, copies, libraries and search."""
