"""The queues (held, spam, published, rejected) and the moderators' actions.

Pages are server-rendered; dashboard.js calls the JSON endpoints under /admin/api/ so an
action takes effect without a reload. Every form also works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for

from services.dashboard.auth import actor, login_required, safe_next
from services.http import container, json_body, problem
from shared.models import utcnow
from shared.moderation import actions, queries, reports
from shared.moderation import review as dq
from shared.moderation.queries import BadQuery, Filters
from shared.moderation.states import NOTE_RULE, check_action, valid_note
from shared.ops import collector
from shared.timefmt import iso

queue_pages = Blueprint("queue", __name__, url_prefix="/admin")

FILTER_ARGS = ("article", "q", "author", "email", "ip", "hash")


def filters_from(args, status: str) -> Filters:
    """The view's filters from query-string (or JSON) values; raises :class:`BadQuery`."""
    if status not in dq.QUEUES:
        raise BadQuery("status", f"must be one of {', '.join(dq.QUEUES)}")
    value = {name: (str(args.get(name) or "").strip()[:254] or None) for name in FILTER_ARGS}
    return Filters(
        status=status,
        article=value["article"],
        text=value["q"],
        author=value["author"],
        email=value["email"],
        ip=value["ip"],
        content_hash=value["hash"],
    )


def filter_args(filters: Filters) -> dict:
    """The query-string form of ``filters`` (for links that keep them)."""
    values = {
        "article": filters.article,
        "q": filters.text,
        "author": filters.author,
        "email": filters.email,
        "ip": filters.ip,
        "hash": filters.content_hash,
    }
    return {k: v for k, v in values.items() if v}


def _bad_query(exc: BadQuery):
    return problem(422, "Invalid fields", str(exc), errors={exc.field: [exc.message]})


@queue_pages.get("/")
@login_required
def index():
    return queue("held")


@queue_pages.get("/queue/<status>")
@login_required
def queue(status: str):
    try:
        filters = filters_from(request.args, status)
        with container().stores.moderation_read() as session:
            view = dq.queue_view(
                session,
                filters,
                request.args.get("cursor") or None,
                group=request.args.get("group") != "0",
            )
    except BadQuery as exc:
        if exc.field == "status":
            abort(404)
        flash(f"Ignored a bad filter: {exc}", "error")
        return redirect(url_for("queue.queue", status=status))
    return render_template(
        "queue.html", view=view, args=filter_args(filters), cursor=request.args.get("cursor")
    )


@queue_pages.post("/comments/<comment_id>/action")
@login_required
def act_form(comment_id: str):
    """The no-JavaScript path of one action: do it, then back to the queue with a message."""
    action = request.form.get("action", "")
    try:
        result = actions.moderate(
            container(),
            comment_id,
            check_action(action),
            actor(),
            request.form.get("note") or None,
        )
        flash(f"Comment by {result.comment.author_name}: {actions.ACTION_NOTES[action]}.", "ok")
    except actions.CommentNotFound:
        flash("That comment no longer exists.", "error")
    except actions.IllegalTransition as exc:
        flash(str(exc).capitalize() + ".", "error")
    return redirect(_back(), 303)


@queue_pages.post("/bulk")
@login_required
def bulk_form():
    """The no-JavaScript path of bulk actions: selected ids, or everything matching."""
    action = request.form.get("action", "")
    status = request.form.get("status", "held")
    try:
        if request.values.get("scope") == "all":
            with container().stores.moderation_read() as session:
                ids = dq.matching_ids(session, filters_from(request.form, status))
        else:
            ids = request.form.getlist("ids")
        result = dq.bulk_moderate(container(), ids[: dq.MAX_BULK], action, actor())
    except (BadQuery, actions.IllegalTransition) as exc:
        flash(str(exc), "error")
        return redirect(_back(), 303)
    left = max(0, len(ids) - dq.MAX_BULK)
    flash(
        f"{actions.ACTION_NOTES[action].capitalize()}: {len(result.done)}."
        + (f" Not possible for {len(result.failed)}." if result.failed else "")
        + (f" {left} more match: repeat to continue." if left else ""),
        "ok" if not result.failed else "error",
    )
    return redirect(_back(), 303)


def _back() -> str:
    return safe_next(request.form.get("next"))


# --- JSON endpoints for dashboard.js -----------------------------------------------------


@queue_pages.post("/api/comments/<comment_id>/action")
@login_required
def act_json(comment_id: str):
    data = json_body()
    if data is None:
        return problem(400, "Bad request", "The body must be a JSON object.")
    note = data.get("note")
    if not valid_note(note):
        return problem(422, "Invalid fields", f"note {NOTE_RULE}", errors={"note": [NOTE_RULE]})
    try:
        result = actions.moderate(
            container(), comment_id, check_action(str(data.get("action"))), actor(), note
        )
    except actions.CommentNotFound:
        return problem(404, "Unknown comment", "That comment no longer exists.")
    except actions.IllegalTransition as exc:
        return problem(409, "Conflict", str(exc).capitalize() + ".")
    return jsonify(
        id=result.comment.id,
        status=result.comment.status,
        feedback=result.feedback,
        counts=collector.comment_counts(container()),
    )


@queue_pages.post("/api/bulk")
@login_required
def bulk_json():
    data = json_body()
    ids = data.get("ids") if data else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return problem(
            422,
            "Invalid fields",
            "ids must be a list of comment ids",
            errors={"ids": ["must be a list of comment ids"]},
        )
    if len(ids) > dq.MAX_BULK:
        return problem(
            422,
            "Invalid fields",
            f"at most {dq.MAX_BULK} ids per request",
            errors={"ids": [f"at most {dq.MAX_BULK} per request"]},
        )
    try:
        result = dq.bulk_moderate(container(), ids, str(data.get("action")), actor())
    except actions.IllegalTransition as exc:
        return problem(422, "Invalid fields", str(exc), errors={"action": [str(exc)]})
    return jsonify(**result.as_json(), counts=collector.comment_counts(container()))


@queue_pages.get("/api/ids")
@login_required
def ids_json():
    """Ids of every comment matching a view's filters, for "act on all matching"."""
    try:
        filters = filters_from(request.args, request.args.get("status", "held"))
        with container().stores.moderation_read() as session:
            ids = dq.matching_ids(session, filters)
            # Below the cap the ids are all of them; only a capped list needs counting.
            total = (
                len(ids) if len(ids) < dq.MAX_MATCHING else queries.count_matching(session, filters)
            )
    except BadQuery as exc:
        return _bad_query(exc)
    return jsonify(ids=ids, total=total, capped=total > len(ids))


@queue_pages.get("/api/poll")
@login_required
def poll_json():
    """Counts, the cards that entered the view since ``since``, which of the cards the
    page shows (``shown``) have left it (decided by another moderator, say), and the
    waves' HTML when they differ from ``waves`` (the signature the page shows), for the
    live queue."""
    try:
        status = request.args.get("status", "held")
        filters = filters_from(request.args, status)
        since = queries.parse_time("since", request.args.get("since"))
        shown = dq.shown_ids(request.args.get("shown"))
        now = utcnow()  # before reading: what changes during the reads comes next time
        with container().stores.moderation_read() as session:
            counts = queries.counts_by_status(session)
            counts["reported"] = reports.reported_count(session)  # the nav's Reported count
            update = dq.live_update(
                session, filters, since or now, request.args.get("group") != "0"
            )
            gone = queries.left_status(session, shown, status)
    except BadQuery as exc:
        return _bad_query(exc)
    args = filter_args(filters)
    html = (
        render_template("_cards.html", cards=update.cards, args=args, status=status)
        if update.cards
        else ""
    )
    waves_html = None
    if "waves" in request.args and request.args["waves"] != update.signature:
        waves_html = render_template("_waves.html", waves=update.waves, args=args, status=status)
    return jsonify(
        counts=counts,
        new=len(update.cards),
        ids=[card.comment.id for card in update.cards],
        gone=gone,
        html=html,
        since=iso(now, precise=True),
        waves=update.signature,
        waves_html=waves_html,
    )
