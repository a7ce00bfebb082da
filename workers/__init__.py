"""Celery workers: the app, the beat schedule and one module per mail workflow."""
