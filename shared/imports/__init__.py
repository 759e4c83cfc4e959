"""Imports of other systems' comments: WordPress's WXR export and Disqus's XML export
(docs/contract.md §8 ``parley import``).

Each format has a streaming parser (:mod:`.wordpress`, :mod:`.disqus`) that turns the file
into :class:`.records.ArticleRecord` and :class:`.records.CommentRecord` values in bounded
memory; one writer (:mod:`.writer`) stores them in both stores in batches, and
:mod:`.run` drives the two with a progress callback and a summary.
"""
