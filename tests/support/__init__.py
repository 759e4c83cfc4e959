"""Test support: the helpers the test modules and the benchmarks share, written once.

``procs`` starts and stops real processes (gunicorn, Celery, Redis, the Akismet-compatible
server) for end-to-end tests, browser tests and benchmarks.
"""
