"""What a comment's form-token status says, for :func:`shared.moderation.rules.rule_form_token`.

The statuses are the intake's (shared.formtoken, shared.intake.submit): ``valid`` (its
age is the rule's to judge), ``expired`` and ``missing`` (a JSON API client needs no
token) say nothing here. Pure: no I/O.
"""

from __future__ import annotations

# Status -> (rule, detail). A token serves one comment: a second comment with it scores
# like a forged one. The article page's form always sends its token, so a form post
# without one was not sent from the page: a weak sign on its own (below the hold
# threshold), enough to tip a comment that is already suspect.
TOKEN_SIGNS: dict[str, tuple[str, str]] = {
    "invalid": ("form_token_invalid", "the form token was tampered with or forged"),
    "reused": ("form_token_invalid", "the form token was already used for another comment"),
    "form_missing": (
        "form_token_missing",
        "a form post without the form token (the article page always sends one): "
        "sent by a script, not from the page",
    ),
}
