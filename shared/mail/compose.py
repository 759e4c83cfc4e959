"""The messages Parley sends, each as plain text and HTML (``multipart/alternative``).

Every message names its one recipient only, and shows other readers by the name they
commented under, never by address. Every message carries ``List-Unsubscribe`` with its
signed one-click link and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058), and ``Auto-Submitted: auto-generated`` so that auto-responders stay quiet.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from html import escape

from shared.config import Settings
from shared.mail import optout

EXCERPT = 300
QUEUE_LABELS = {"held": "Held", "reported": "Reported"}


def excerpt(text: str, size: int = EXCERPT) -> str:
    """The first ``size`` characters of a comment, cut at a word where it can be."""
    text = " ".join((text or "").split())
    if len(text) <= size:
        return text
    cut = text[:size].rsplit(" ", 1)[0] or text[:size]
    return cut + " …"


@dataclass(frozen=True)
class Body:
    subject: str
    text: str
    html: str


def message(settings: Settings, to: str, kind: str, body: Body) -> EmailMessage:
    """A whole message to ``to`` with the headers every Parley mail carries."""
    unsubscribe = optout.link_url(settings.site_url, settings.secret_key, to, kind)
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = body.subject
    msg["Date"] = formatdate(usegmt=True)
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    msg["Message-ID"] = make_msgid(domain=domain)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Parley-Mail"] = kind
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    footer = f"\n\n--\nYou get this mail from Parley. To get no more: {unsubscribe}\n"
    msg.set_content(body.text + footer)
    msg.add_alternative(
        "<!doctype html><html><body>"
        + body.html
        + '<hr><p style="font-size:small">You get this mail from Parley. '
        + f'<a href="{escape(unsubscribe)}">Unsubscribe</a> from all of it.</p>'
        + "</body></html>",
        subtype="html",
    )
    return msg


def _quote_html(text: str) -> str:
    return f"<blockquote>{escape(text)}</blockquote>"


def reply_body(
    *, title: str, link: str, reply_author: str, reply_text: str, your_text: str
) -> Body:
    """ "Someone replied to you": the reply's author by name, both texts in short."""
    reply, yours = excerpt(reply_text), excerpt(your_text)
    return Body(
        subject=f"{reply_author} replied to your comment on {title}",
        text=(
            f"{reply_author} replied to your comment on {title}:\n\n  {reply}\n\n"
            f"Your comment:\n\n  {yours}\n\nRead it in context: {link}"
        ),
        html=(
            f"<p><b>{escape(reply_author)}</b> replied to your comment on "
            f"<i>{escape(title)}</i>:</p>{_quote_html(reply)}"
            f"<p>Your comment:</p>{_quote_html(yours)}"
            f'<p><a href="{escape(link)}">Read it in context</a></p>'
        ),
    )


def published_body(*, title: str, link: str, your_text: str) -> Body:
    """ "Your held comment was published" after a moderator approved it."""
    yours = excerpt(your_text)
    return Body(
        subject=f"Your comment on {title} is published",
        text=(
            f"A moderator approved your comment on {title}; it is published now:\n\n"
            f"  {yours}\n\nSee it: {link}"
        ),
        html=(
            f"<p>A moderator approved your comment on <i>{escape(title)}</i>; "
            f"it is published now:</p>{_quote_html(yours)}"
            f'<p><a href="{escape(link)}">See it</a></p>'
        ),
    )


def digest_body(*, counts: dict[str, int], links: dict[str, str], minutes: float) -> Body:
    """The moderators' digest: how many comments wait in each queue, with its link."""
    shown = ", ".join(f"{n} {QUEUE_LABELS.get(q, q).lower()}" for q, n in counts.items() if n)
    lines = [f"  {QUEUE_LABELS.get(q, q)}: {n}  {links[q]}" for q, n in counts.items() if n]
    items = "".join(
        f'<li><a href="{escape(links[q])}">{escape(QUEUE_LABELS.get(q, q))}</a>: {n}</li>'
        for q, n in counts.items()
        if n
    )
    every = f"{minutes:g} minute{'s' if minutes != 1 else ''}"
    return Body(
        subject=f"Parley: waiting for moderation: {shown}",
        text=(
            "Comments wait for moderation:\n\n" + "\n".join(lines) + "\n\n"
            f"You get at most one of these every {every}, when new work arrived."
        ),
        html=(
            f"<p>Comments wait for moderation:</p><ul>{items}</ul>"
            f"<p>You get at most one of these every {escape(every)}, when new work arrived.</p>"
        ),
    )
