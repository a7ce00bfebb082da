"""What every resolver domain uses: the request context and viewer, the services it carries (the
data loaders, the bounded password hasher and dispatcher nudge) and reading privacy. Imports no
domain package."""
