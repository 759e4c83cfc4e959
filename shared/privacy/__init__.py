"""Privacy: everything stored about one e-mail address, exported or erased
(docs/contract.md §4), and client data (IP, user agent) dropped from stored comments
after ``PARLEY_IP_RETENTION_DAYS`` (docs/contract.md §2).

- :mod:`.address`: the form an address is looked up by (pure).
- :mod:`.scrub`: what erasing does to each field of a comment (pure).
- :mod:`.sources`: one function per place that holds data about a person, for the export
  and the erasure; a new table holding personal data adds its :class:`.sources.Source`.
- :mod:`.export` and :mod:`.erase`: the two admin operations.
- :mod:`.retention`: beat's purge of client data from comments past the retention.
"""
