"""Explained heuristics: pure functions from a comment's facts and the moderation lists to signals.

Each rule looks at one kind of evidence and, when it sees some, returns a :class:`Signal`
whose ``detail`` names that evidence in a sentence a moderator understands. Scores add up;
:mod:`shared.moderation.policy` compares the sum with the hold and spam thresholds. With the
default thresholds (hold 1.0, spam 3.0) a single suspicious sign holds a comment for review,
and a hit on a moderator's block list makes it spam on its own.

Nothing here does I/O or reads the clock: counts that need the database (similar texts,
the author's history) are computed by the caller and passed in :class:`RuleContext`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from disposable_email_domains import blocklist as DISPOSABLE_DOMAINS

from shared.classifier.verdict import Verdict, weigh
from shared.moderation import links as lk
from shared.moderation import modes as md
from shared.moderation import textcheck as tc
from shared.moderation.defaults import DEFAULT_LISTS, LIST_FIELDS
from shared.moderation.formsigns import TOKEN_SIGNS
from shared.moderation.senses import with_context
from shared.moderation.terms import find_terms

if TYPE_CHECKING:
    from shared.config import Settings

WEIGHTS: dict[str, float] = {
    "links": 1.0,
    "link_markup": 1.5,
    "block_word": 3.0,
    "hold_word": 1.0,
    "blocked_email": 5.0,
    "blocked_ip": 5.0,
    "blocked_domain": 4.0,
    # Far above any threshold; the policy discards on the rule name, not on the number.
    "honeypot": 10.0,
    "form_too_fast": 1.5,
    "form_token_invalid": 1.0,
    "form_token_missing": 0.5,  # a form post without it (.formsigns)
    "duplicate_text": 1.0,
    "duplicate_text_each_more": 0.5,
    "duplicate_text_max": 3.0,
    "author_spam_history": 2.0,
    "author_approved_history": -1.0,
    "trusted_author": -3.0,
    "disposable_email": 1.0,
    "shortener": 1.0,
    "name_is_url": 1.5,
    "invisible_chars": 1.5,
    "mixed_script": 1.5,
    "shouting": 0.5,
    "repetition": 0.5,
}

# Rules whose evidence is a moderator's own list: authoritative enough to decide spam
# without asking Akismet (see policy.heuristic_precheck).
LIST_RULES = frozenset({"block_word", "blocked_email", "blocked_ip", "blocked_domain"})


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: which rule, how much it weighs, and what it saw."""

    rule: str
    score: float
    detail: str
    trial: bool = False  # shown in the reasons, not counted (docs/contract.md §4)
    entry: tuple[str, str] | None = None  # (kind, value): the list entry on trial

    def as_dict(self) -> dict[str, Any]:
        trial = {"trial": True} if self.trial else {}
        if self.entry:
            trial["entry"] = {"kind": self.entry[0], "value": self.entry[1]}
        return {"rule": self.rule, "score": self.score, "detail": self.detail, **trial}


@dataclass(frozen=True)
class CommentFacts:
    """What the rules may know about a submission; nothing the database has to look up."""

    content: str
    author_name: str = ""
    author_email: str = ""
    author_url: str | None = None
    user_ip: str = ""
    honeypot: bool = False
    form_token_status: str = "missing"  # valid | invalid | missing | expired | … (.formsigns)
    form_token_age: float | None = None
    author_verified: bool = False  # the host site signed for author_email (shared.commenter)
    article_url: str | None = None  # the article's page: links to it are the site's own

    @classmethod
    def from_comment(cls, comment: Any) -> CommentFacts:
        """Facts of a stored comment (or anything with the same attribute names)."""
        return cls(
            content=getattr(comment, "content", "") or "",
            author_name=getattr(comment, "author_name", "") or "",
            author_email=getattr(comment, "author_email", "") or "",
            author_url=getattr(comment, "author_url", None) or None,
            user_ip=getattr(comment, "user_ip", "") or "",
            honeypot=bool(getattr(comment, "honeypot", False)),
            form_token_status=getattr(comment, "form_token_status", None) or "missing",
            form_token_age=getattr(comment, "form_token_age", None),
            author_verified=bool(getattr(comment, "author_verified", False)),
            article_url=getattr(comment, "article_permalink", None) or None,
        )


def _normalise(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip().casefold() for v in values if v and v.strip())


@dataclass(frozen=True)
class RuleContext:
    """The moderation lists and the numbers the caller looked up for one comment.

    Lists may be given as any iterable of strings; they are stored stripped, case-folded
    frozensets so that a moderator's "Casino " matches "casino".
    """

    block_words: frozenset[str] = frozenset()
    hold_words: frozenset[str] = frozenset()
    blocked_emails: frozenset[str] = frozenset()
    blocked_ips: frozenset[str] = frozenset()  # addresses or CIDR networks
    blocked_domains: frozenset[str] = frozenset()
    trusted_authors: frozenset[str] = frozenset()  # e-mail addresses
    shorteners: frozenset[str] = frozenset()
    extra_disposable_domains: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()  # links there do not count
    site_hosts: frozenset[str] = frozenset()  # PARLEY_SITE_URL's host: the site's own links
    trial_lists: Mapping[str, frozenset[str]] = field(default_factory=dict)  # kind -> entries
    rule_modes: Mapping[str, md.RuleMode] = field(default_factory=dict)  # see .modes
    max_links: int = 2
    min_form_seconds: float = 3.0
    similar_recent: int = 0
    author_spam_count: int = 0  # earlier comments with the same commenter key (.context)
    author_approved_count: int = 0
    classifier: Verdict | None = None  # the learned classifier's, scored by the caller

    def __post_init__(self) -> None:
        for name in (*LIST_FIELDS.values(), "site_hosts"):
            object.__setattr__(self, name, _normalise(getattr(self, name)))
        trial = {kind: _normalise(v) for kind, v in self.trial_lists.items() if v}
        object.__setattr__(self, "trial_lists", trial)

    @classmethod
    def from_lists(
        cls, settings: Settings | None, lists: Mapping[str, Iterable[str]], **overrides: Any
    ) -> RuleContext:
        """A context from list entries by database kind ("block_word", …) and settings."""
        unknown = set(lists) - set(LIST_FIELDS)
        if unknown:
            raise ValueError(f"unknown list kind(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {LIST_FIELDS[kind]: entries for kind, entries in lists.items()}
        if settings is not None:
            values["max_links"] = settings.max_links
            values["min_form_seconds"] = settings.min_form_seconds
            values["site_hosts"] = lk.site_hosts(settings.site_url)
        values.update(overrides)
        return cls(**values)

    @classmethod
    def defaults(cls, settings: Settings | None = None, **overrides: Any) -> RuleContext:
        """The context before any moderator edited a list: :data:`DEFAULT_LISTS` + settings."""
        return cls.from_lists(settings, DEFAULT_LISTS, **overrides)


RuleResult = Signal | list[Signal] | None
Rule = Callable[[CommentFacts, RuleContext], RuleResult]


def _signal(rule: str, detail: str, score: float | None = None) -> Signal:
    return Signal(rule, WEIGHTS[rule] if score is None else score, detail)


def _num(value: float) -> str:
    return f"{value:g}"


def _known_hosts(ctx: RuleContext) -> frozenset[str]:
    """Hosts that read as links even without a common TLD: the lists name them."""
    return ctx.blocked_domains | ctx.shorteners


# --- the rules --------------------------------------------------------------------------


def rule_links(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Many links are the commonest mark of spam (docs/contract.md §2: at least max_links
    of them → held); links to the site itself, to allowed domains, to well-known
    references and a mailing list's own page do not count (:mod:`.links`)."""
    found = tc.find_links(facts.content, _known_hosts(ctx))
    site = ctx.site_hosts | lk.site_hosts(facts.article_url)
    detail = lk.too_many(found, site, ctx.allowed_domains, ctx.max_links)
    return _signal("links", detail) if detail else None


def rule_link_markup(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Link markup does nothing in a plain-text form: only bots paste it blindly."""
    kinds = tc.markup_kinds(facts.content)
    if not kinds:
        return None
    return _signal("link_markup", f"uses {' and '.join(kinds)} link markup, typical of bots")


def _word_rule(rule: str, what: str, text: str, terms: frozenset[str]) -> Signal | None:
    hits = with_context(find_terms(text, terms), text)
    if not hits:
        return None
    words = tc.listing(
        f'"{term}"' + (f' (next to "{near}")' if near else "") for term, _, near in hits
    )
    label = what if len(hits) == 1 else what + "s"
    detail = f"{label} {words}"
    disguises = [disguise for _, disguise, _ in hits if disguise]
    if disguises:
        detail += f" (disguised with {' and '.join(dict.fromkeys(disguises))})"
    return _signal(rule, detail)


def rule_block_word(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """A moderator's block word, as a whole word, even when disguised or spelled out."""
    text = f"{facts.author_name}\n{facts.content}"
    return _word_rule("block_word", "blocked word", text, ctx.block_words)


def rule_hold_word(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Words that are often spam but also honest talk: a human should look."""
    text = f"{facts.author_name}\n{facts.content}"
    return _word_rule("hold_word", "watched word", text, ctx.hold_words)


def rule_blocked_email(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """An address a moderator blocked: their word is final."""
    email = facts.author_email.strip().casefold()
    if email and email in ctx.blocked_emails:
        return _signal("blocked_email", f"e-mail address {email} is on the blocked list")
    return None


def rule_blocked_ip(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Blocked addresses and networks (CIDR), IPv4-mapped IPv6 included."""
    hit = tc.ip_in_networks(facts.user_ip, ctx.blocked_ips)
    if hit is None:
        return None
    ip, network = hit
    where = ip if "/" not in network else f"{ip} (in {network})"
    return _signal("blocked_ip", f"IP address {where} is on the blocked list")


def rule_blocked_domain(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Blocked domains wherever they appear: e-mail, website, links; subdomains included."""
    hits = []
    for host, where in tc.pointed_hosts(
        facts.author_email, facts.author_url, facts.content, _known_hosts(ctx)
    ):
        if domain := tc.domain_matches(host, ctx.blocked_domains):
            hits.append(f"{domain} ({where})")
    if not hits:
        return None
    label = "blocked domain" if len(hits) == 1 else "blocked domains"
    return _signal("blocked_domain", f"{label} {', '.join(dict.fromkeys(hits))}")


def rule_honeypot(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Only a bot fills a field no human can see; the policy discards on this rule."""
    if facts.honeypot:
        return _signal("honeypot", "the hidden honeypot field was filled in (only bots see it)")
    return None


def rule_form_token(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Humans read before they write, and a token serves one comment (:mod:`.formsigns`)."""
    if sign := TOKEN_SIGNS.get(facts.form_token_status):
        return _signal(*sign)
    age = facts.form_token_age
    if facts.form_token_status == "valid" and age is not None and age < ctx.min_form_seconds:
        return _signal(
            "form_too_fast",
            f"posted {age:.1f} s after the form was loaded "
            f"(minimum {_num(ctx.min_form_seconds)} s)",
        )
    return None


def rule_duplicate_text(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """The same text across the site is a campaign, more so the more often it appears."""
    n = ctx.similar_recent
    if n < 1:
        return None
    score = min(
        WEIGHTS["duplicate_text_max"],
        WEIGHTS["duplicate_text"] + WEIGHTS["duplicate_text_each_more"] * (n - 1),
    )
    times = "once" if n == 1 else f"{n} times"
    return _signal(
        "duplicate_text",
        f"the same or nearly the same text was posted {times} elsewhere on the site recently",
        score,
    )


def rule_author_history(facts: CommentFacts, ctx: RuleContext) -> list[Signal]:
    """Past verdicts on the reader's commenter key (counted by the caller): spammers
    return, regulars earn some trust; the trusted list only for a verified address."""
    signals = []
    if facts.author_verified and facts.author_email.strip().casefold() in ctx.trusted_authors:
        signals.append(_signal("trusted_author", "the author is on the trusted list"))
    n = ctx.author_spam_count
    if n > 0:
        times = "once" if n == 1 else f"{n} times"
        signals.append(
            _signal("author_spam_history", f"the author's comments were marked spam {times} before")
        )
    elif ctx.author_approved_count >= 1 and not signals:
        n = ctx.author_approved_count
        plural = "comment" if n == 1 else "comments"
        signals.append(
            _signal("author_approved_history", f"{n} {plural} by the author approved before")
        )
    return signals


def rule_disposable_email(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """A throw-away address cannot be answered nor held to account."""
    domain = tc.email_domain(facts.author_email)
    hit = domain and tc.domain_in(domain, DISPOSABLE_DOMAINS, ctx.extra_disposable_domains)
    if hit:
        return _signal("disposable_email", f"uses a throw-away e-mail domain ({hit})")
    return None


def rule_shortener(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Shortened links hide where they lead, so a moderator cannot judge them."""
    links = tc.find_links(facts.content, ctx.shorteners) + (
        [facts.author_url] if facts.author_url else []
    )
    hits = [
        tc.display_link(link)
        for link in links
        if (host := tc.link_host(link)) and tc.domain_matches(host, ctx.shorteners)
    ]
    if not hits:
        return None
    return _signal("shortener", f"links through a URL shortener: {tc.listing(hits)}")


def rule_name_is_url(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """SEO spam puts the advertised site in the name, which is shown as a link text."""
    if tc.find_links(facts.author_name, _known_hosts(ctx)):
        return _signal("name_is_url", f'the name "{facts.author_name.strip()}" is a web address')
    return None


def rule_invisible_chars(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Invisible characters split words so that filters miss them."""
    found = tc.invisible_chars(facts.content) + tc.invisible_chars(facts.author_name)
    if not found:
        return None
    names = ", ".join(tc.char_name(ch) for ch in dict.fromkeys(found))
    count = "1 invisible character" if len(found) == 1 else f"{len(found)} invisible characters"
    return _signal("invisible_chars", f"contains {count} ({names})")


def rule_mixed_script(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Words spelled with look-alike letters of another script, to slip past filters."""
    found = tc.mixed_script_words(f"{facts.author_name}\n{facts.content}")
    if not found:
        return None
    word, foreign = found[0]
    letters = ", ".join(tc.char_name(ch) for ch in foreign)
    more = f" and {len(found) - 1} more word(s)" if len(found) > 1 else ""
    return _signal("mixed_script", f'the word "{word}" hides look-alike letters ({letters}){more}')


def rule_shouting(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """All capitals is weak evidence alone; it tips a comment that is already suspect."""
    letters, upper = tc.shouting_ratio(facts.content)
    if letters >= 20 and upper > 0.7:
        return _signal("shouting", f"{upper:.0%} of {letters} letters are capitals")
    return None


def rule_repetition(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """Padding and keyword stuffing; weak alone, like shouting."""
    what = tc.repetition(facts.content)
    return _signal("repetition", f"repeats {what}") if what else None


def rule_classifier(facts: CommentFacts, ctx: RuleContext) -> Signal | None:
    """The site's learned classifier: the probability and the words behind it, weighed by
    band (shared.classifier.verdict); silent before its first model and when unsure."""
    weighed = weigh(ctx.classifier) if ctx.classifier is not None else None
    if weighed is None:
        return None
    return Signal("classifier", weighed[0], weighed[1], trial=ctx.classifier.trial)


RULES: tuple[Rule, ...] = (
    rule_honeypot,
    rule_blocked_email,
    rule_blocked_ip,
    rule_blocked_domain,
    rule_block_word,
    rule_hold_word,
    rule_links,
    rule_link_markup,
    rule_shortener,
    rule_name_is_url,
    rule_form_token,
    rule_duplicate_text,
    rule_disposable_email,
    rule_invisible_chars,
    rule_mixed_script,
    rule_shouting,
    rule_repetition,
    rule_author_history,
    rule_classifier,
)


def _raise(facts: CommentFacts, ctx: RuleContext, rules: Iterable[Rule]) -> list[Signal]:
    signals: list[Signal] = []
    for rule in rules:
        result = rule(facts, ctx)
        if isinstance(result, Signal):
            signals.append(result)
        elif result:
            signals.extend(result)
    return signals


def evaluate(facts: CommentFacts, ctx: RuleContext, rules: Iterable[Rule] = RULES) -> list[Signal]:
    """Every signal the rules raise for one comment, in rule order, then those of the list
    entries on trial; the rules' modes and weights applied (:mod:`.modes`)."""
    rules = tuple(rules)
    signals = _raise(facts, ctx, rules)
    if ctx.trial_lists:
        signals += md.entry_trials(facts, ctx, rules, _raise, LIST_FIELDS)
    return md.apply(signals, ctx.rule_modes, WEIGHTS) if ctx.rule_modes else signals
