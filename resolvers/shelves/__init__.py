"""Bookshelves (My本棚): the patron's named lists of titles."""
