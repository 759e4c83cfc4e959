"""A synthetic corpus of blog and forum comments, for the classifier's second check.

The SMS collection (../shared/data) is short messages; the comments a site gets are
longer, and much of their ham carries links (references, a project's issue tracker,
mailing-list footers). These generators write both kinds, seeded and reproducible, so
that ``parley evaluate`` can show nothing collapses on longer texts with links: ham with
two or more links, sign-offs like "xxx", words like "crypto" in honest use, Japanese
text; spam selling through links, markup, keyword names and messaging handles, with
the generic praise that real spam borrows from real readers.

Written for this project; no outside data. Not a benchmark: templates are easier than
real comments, so only a collapse (not a fine difference) means something here.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

TOPICS = [
    ("the new parser", "the tokenizer", "error messages"),
    ("the pension reform", "the budget office", "the retirement age"),
    ("sourdough", "the levain", "hydration"),
    ("the bridge repairs", "the council", "the detour"),
    ("the firmware update", "the crypto co-processor", "battery life"),
    ("the election polls", "the margin of error", "turnout"),
    ("the train timetable", "the night service", "connections"),
    ("the museum exhibition", "the curators", "the audio guide"),
    ("remote work", "the office", "commuting"),
    ("the bitcoin price chart", "the exchange outage", "the regulators"),
]
REFERENCES = [
    "https://en.wikipedia.org/wiki/{w}",
    "https://github.com/{w}/{w}/issues/{n}",
    "https://docs.python.org/3/library/{w}.html",
    "https://arxiv.org/abs/23{n}.0{n}",
    "https://www.youtube.com/watch?v={w}{n}",
    "https://stackoverflow.com/questions/{n}{n}/{w}",
    "https://news.example/articles/{w}-{n}",
    "https://www.bbc.co.uk/news/{w}-{n}",
    "https://lwn.net/Articles/{n}/",
]
WORDS = ["parser", "budget", "bread", "bridge", "firmware", "polls", "rail", "museum", "remote"]
HAM_SENTENCES = [
    "I think the point about {a} is fair, but {b} deserves more space.",
    "We ran into the same problem with {a} last year; in the end {b} fixed it.",
    "Thanks for writing this up. The section on {c} was the clearest I've read.",
    "Has anyone compared {a} with what {b} proposed in the spring?",
    "The numbers on {c} look off to me, the second chart starts at zero only for 2021.",
    "My neighbour works on {b} and says the real issue is {c}, not {a}.",
    "I disagree with the conclusion, {c} has barely changed since {a} was announced.",
    "For what it's worth, {b} published the full figures last week.",
    "Great article, though I'd like to read more about {c} next time.",
    "Does anyone know whether {b} will still handle {c} after the change?",
]
HAM_LINKS = [
    "There is a good overview at {r1} and the original source is {r2}.",
    "For context, see {r1}",
    "The discussion continued here: {r1} (and the follow-up {r2}).",
    "Sources: {r1}, {r2}, {r3}",
]
FOOTERS = [
    "\n\n--\nYou received this message because you are subscribed to the Google Groups "
    '"{w}-users" group.\nTo unsubscribe from this group and stop receiving emails from it, '
    "send an email to {w}-users+unsubscribe@googlegroups.com.\nTo view this discussion "
    "visit https://groups.google.com/d/msgid/{w}-users/{n}",
    "\n\nSent from my phone",
    "\n\nLove, Kate xxx",
    "\n\n-- \nhttps://www.example.org/~{w}/ | https://github.com/{w}",
    "\n\n東京タワーから見た景色は素晴らしかったです。",
]
HAM_NAMES = ["Ayşe", "John Smith", "Marta K.", "kenji", "Dr. Olu Ade", "lena_b", "Pat"]

PRAISE = [
    "Great post!",
    "Very informative article, thanks for sharing.",
    "I like this web site so much, saved to my bookmarks.",
    "Hi there, I found your blog via Google while searching for {a}.",
    "Nice read, keep up the good work.",
    "Thank you for the useful information.",
]
PITCHES = [
    "Check out my site for the best {p} deals: {s}",
    "We offer {p} at affordable prices. Visit {s} today!",
    "Earn ${n} per day working from home, no experience needed: {s}",
    "Buy {p} online without prescription, fast shipping {s}",
    "Best {p} bonuses and free spins here {s}",
    "Get {n}0 real followers for {p} in minutes {s}",
    "Guaranteed profit with our {p} investment plan, message us on telegram @{w}{n}",
    "Need {p}? Our experts write it in 3 hours, 100% plagiarism free: {s}",
    "Looking for {p}? Call now +1 (800) {n}-{n}0 or WhatsApp +44 7{n}{n}{n}",
]
PRODUCTS = [
    "cheap viagra", "essay writing", "online casino", "crypto trading", "replica watches",
    "payday loans", "SEO services", "instagram", "weight loss pills", "cheap flights",
]  # fmt: skip
SPAM_HOSTS = ["{w}-deals.xyz", "best{w}.top", "{w}-online.ru", "get{w}now.info", "{w}pro.com"]
SPAM_WORDS = ["pills", "essay", "casino", "trade", "watch", "loan", "seo", "follow", "slim"]
SPAM_NAMES = ["Cheap Essay Writing", "Buy Viagra Online", "SEO Agency", "Casino Bonus", "Mike"]


def _fill(rng: random.Random, template: str, **extra: str) -> str:
    values = {"w": rng.choice(WORDS), "n": str(rng.randint(10, 999))}
    values.update(extra)
    return template.format(**values)


def ham_comment(rng: random.Random) -> dict:
    """One reader's comment: a few sentences, often with references, sometimes a footer."""
    a, b, c = rng.choice(TOPICS)
    sentences = [s.format(a=a, b=b, c=c) for s in rng.sample(HAM_SENTENCES, rng.randint(2, 6))]
    if rng.random() < 0.6:
        refs = {f"r{i}": _fill(rng, rng.choice(REFERENCES)) for i in (1, 2, 3)}
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(HAM_LINKS).format(**refs))
    if rng.random() < 0.2:  # readers praise too
        sentences.insert(0, rng.choice(PRAISE).format(a=a))
    text = " ".join(sentences)
    if rng.random() < 0.35:
        text += _fill(rng, rng.choice(FOOTERS))
    url = _fill(rng, "https://{w}.example.org/") if rng.random() < 0.3 else ""
    return {"text": text, "label": 0, "author_name": rng.choice(HAM_NAMES), "author_url": url}


def spam_comment(rng: random.Random) -> dict:
    """One spam comment: borrowed praise, a pitch, a link (as markup now and then)."""
    word = rng.choice(SPAM_WORDS)
    host = rng.choice(SPAM_HOSTS).format(w=word)
    link = f"https://{host}/{word}-{rng.randint(1, 99)}"
    if rng.random() < 0.25:
        link = f'<a href="{link}">{rng.choice(PRODUCTS)}</a>'
    elif rng.random() < 0.1:
        link = f"[url={link}]{rng.choice(PRODUCTS)}[/url]"
    praise = rng.choice(PRAISE).format(a=rng.choice(TOPICS)[0])
    pitch = _fill(rng, rng.choice(PITCHES), p=rng.choice(PRODUCTS), s=link)
    parts = [praise, pitch] if rng.random() < 0.7 else [pitch]
    if rng.random() < 0.25:  # scraped: a reader's sentences around the pitch
        a, b, c = rng.choice(TOPICS)
        parts[:0] = [s.format(a=a, b=b, c=c) for s in rng.sample(HAM_SENTENCES, 2)]
    if rng.random() < 0.4:
        parts.append(rng.choice(PRAISE).format(a=rng.choice(TOPICS)[1]))
    url = f"https://{host}/" if rng.random() < 0.6 else ""
    return {
        "text": " ".join(parts),
        "label": 1,
        "author_name": rng.choice(SPAM_NAMES),
        "author_url": url,
    }


def comments(n_ham: int, n_spam: int, seed: int = 7) -> list[dict]:
    """``n_ham`` + ``n_spam`` labelled comments, shuffled."""
    rng = random.Random(seed)
    rows = [ham_comment(rng) for _ in range(n_ham)] + [spam_comment(rng) for _ in range(n_spam)]
    rng.shuffle(rows)
    return rows


def write_csv(path: Path, rows: list[dict]) -> Path:
    """``rows`` as a labelled CSV file (docs/contract.md §8 columns)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, ["text", "label", "author_name", "author_url"])
        writer.writeheader()
        writer.writerows(rows)
    return path
