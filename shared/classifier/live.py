"""The classifier in the check of a comment (:mod:`shared.moderation.pipeline`).

The pipeline asks for the model while it reads the comments' context, then scores each
comment with no session open; the verdict rides in the :class:`RuleContext` to the pure
``classifier`` rule. Its mode is an admin's setting of the rule ``classifier`` when the
context carries the rules' modes (docs/contract.md §4), else ``PARLEY_CLASSIFIER``: ``off``
skips the scoring, ``trial`` marks the signal as on trial (shown, not counted). Below
``PARLEY_CLASSIFIER_MIN_EXAMPLES`` of either class the model stays silent (a stored model
trained on fewer, before the setting was raised, included). A model that fails to score
is logged and the comment is checked without it: the classifier never stops a check.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from shared.moderation.rules import RuleContext

if TYPE_CHECKING:
    from shared.bootstrap import Container
    from shared.classifier.model import Model

log = logging.getLogger(__name__)


def current_model(container: Container, session: Session) -> Model | None:
    """The model to score with now, or None (no model yet, or too few examples)."""
    model = container.classifier_cache.get(session)
    minimum = container.settings.classifier_min_examples
    if model is None or min(model.n_ham, model.n_spam) < minimum:
        return None
    return model


def mode(ctx: RuleContext, container: Container) -> str:
    """``on``, ``trial`` or ``off``: the rule's mode in ``ctx`` if it carries the rules'
    modes and one for ``classifier``, else ``PARLEY_CLASSIFIER``."""
    setting = (getattr(ctx, "rule_modes", None) or {}).get("classifier")
    return getattr(setting, "mode", None) or container.settings.classifier


def with_verdict(
    ctx: RuleContext, model: Model | None, comment: Any, container: Container
) -> RuleContext:
    """``ctx`` with the classifier's verdict on ``comment`` (unchanged without a model,
    or with the classifier off)."""
    if model is None:
        return ctx
    which = mode(ctx, container)
    if which == "off":
        return ctx
    from shared.classifier.features import Doc

    try:
        verdict = model.judge(
            Doc(comment.content or "", comment.author_name or "", comment.author_url),
            trial=which == "trial",
        )
    except Exception:  # a broken model must not stop the check
        log.exception("classifier failed; checked without it", extra={"comment_id": comment.id})
        return ctx
    return replace(ctx, classifier=verdict)
