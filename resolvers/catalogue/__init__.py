"""The catalogue: records and libraries, search over the bigram index and its upkeep, and MARC21
parsing."""
