"""The HTTP service: app factory, settings, middleware and the ``hondana`` command."""
