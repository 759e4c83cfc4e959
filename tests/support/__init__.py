"""Test support: the helpers the test modules and the benchmarks share, written once.

- ``factories``: test data and requests (comment bodies, submitting and deciding a comment,
  articles, accounts, signed-in dashboard clients);
- ``stores``: the tests' Redis and PostgreSQL, fresh migrated stores, emptying them;
- ``procs``: single real processes (gunicorn, Celery, Redis, the Akismet-compatible server);
- ``stack``: a whole stack of them for an end-to-end test, a browser test or a benchmark,
  stopped together.

Test modules import their helpers from here, not from each other or from a ``conftest``;
bench/ imports nothing else of tests/ but the Akismet-compatible server these start.
"""
