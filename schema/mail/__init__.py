"""The staff's mail log."""
