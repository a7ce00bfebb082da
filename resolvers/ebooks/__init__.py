"""E-books: licence loans, holds and reading links (EBOOK-1..5)."""
