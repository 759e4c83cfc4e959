"""Tables of the article store: articles and their published comments (what the public
may see; no e-mail, no IP)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from shared.models.base import ArticleBase, UTCDateTime, utcnow


class Article(ArticleBase):
    __tablename__ = "articles"

    slug: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    url: Mapped[str] = mapped_column(String(2048))
    summary: Mapped[str] = mapped_column(Text, default="")
    comments_open: Mapped[bool] = mapped_column(Boolean, default=True)
    # auto | premoderate | closed (shared.articles.MODERATION_MODES); "closed" always goes
    # with comments_open false, and comments_open false with "closed".
    moderation: Mapped[str] = mapped_column(String(16), default="auto", server_default="auto")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishedComment(ArticleBase):
    """A comment as the public sees it. Keyed by the comment id: one row per publication."""

    __tablename__ = "published_comments"
    __table_args__ = (Index("ix_published_article_order", "article_slug", "published_at", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    article_slug: Mapped[str] = mapped_column(
        ForeignKey("articles.slug", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(String(32))
    author_name: Mapped[str] = mapped_column(String(100))
    author_url: Mapped[str | None] = mapped_column(String(2048))
    content: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
