"""Every table of both stores, by store: ``moderation_store`` (private) and
``article_store`` (public). Import tables from here; ``base`` holds what both build on."""

from shared.models.article_store import Article, PublishedComment
from shared.models.base import ArticleBase, ModerationBase, UTCDateTime, new_id, utcnow
from shared.models.imports import ImportedComment, ImportSource
from shared.models.mail import MailLog, MailOptOut, ModeratorDigest
from shared.models.moderation_store import (
    AuditLog,
    Comment,
    CommentHistory,
    CommentReport,
    ListEntry,
    Moderator,
    RuleSetting,
    SettingOverride,
    history_row,
)
from shared.models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Article",
    "ArticleBase",
    "AuditLog",
    "Comment",
    "CommentHistory",
    "ImportSource",
    "ImportedComment",
    "CommentReport",
    "ListEntry",
    "MailLog",
    "MailOptOut",
    "ModerationBase",
    "Moderator",
    "ModeratorDigest",
    "PublishedComment",
    "RuleSetting",
    "SettingOverride",
    "UTCDateTime",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "history_row",
    "new_id",
    "utcnow",
]
