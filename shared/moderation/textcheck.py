"""Text inspection helpers behind the moderation rules: links, words, scripts, shapes.

Everything here is a pure function of strings. The rules in :mod:`shared.moderation.rules`
turn what these find into scored, explained signals; :mod:`shared.moderation.terms` finds
listed words in the forms made here.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable
from functools import lru_cache
from itertools import groupby
from urllib.parse import urlsplit

from confusable_homoglyphs import categories, confusables

# --- links ------------------------------------------------------------------------------

# Top-level domains that make a bare "word.tld" read as a link. Deliberately short: most
# gTLDs are also English words ("sentence.Next"), and file names ("app.py", "Node.js") must
# not count. Link shorteners' TLDs are here so that a bare "bit.ly/x" is seen.
BARE_TLDS = frozenset(
    "com net org info biz ru su ua tr de uk eu us xyz top online site shop store club "
    "live pro app dev io co me cc ly gl gd at id ink link click best win vip icu cn pw "
    "tk ml ga cf gq ws fr pl nl es ca au br kz by".split()
)

_SCHEME_URL = re.compile(r"\bhttps?://[^\s<>\"'\[\]{}|\\^`]+", re.IGNORECASE)
_WWW_URL = re.compile(r"(?<![\w.@/])www\.[^\s<>\"'\[\]{}|\\^`]+", re.IGNORECASE)
_BARE_DOMAIN = re.compile(
    r"(?<![\w.@/:-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24}))"
    r"(?![\w-])(/[^\s<>\"'\[\]{}|\\^`]*)?",
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"*"

# These run on untrusted 10,000-character input, so each must take time linear in it. A
# pattern whose quantified parts can share characters ("[^<>]*" then "href" then "[^<>]*")
# backtracks over every way of splitting a run between them: "<a " + "href=" * 500 took 21 s.
# So each class below excludes whatever may follow it, repeats are possessive ("*+", "++"),
# and the HTML link is found in two steps, the tag first and its href inside the tag.
# Bracket contents exclude the opening bracket too, so that a run of "[[[[" or "<a <a <a"
# is scanned once, not once per bracket.
_MARKUP = {
    "BBCode [url]": re.compile(r"\[url(?:=[^\[\]]*+)?\]", re.IGNORECASE),
    "HTML <a href>": re.compile(r"<a\s[^<>]*href\s*+=", re.IGNORECASE),
    "Markdown [text](url)": re.compile(r"\[[^\[\]\n]++\]\(\s*+(?:https?://|www\.)", re.IGNORECASE),
}
# Replaced by the bare target before links are counted, so that "[url=X]X[/url]" is one link.
_BBCODE_LINK = re.compile(r"\[url=([^\[\]]*+)\]([^\[]*+)\[/url\]", re.IGNORECASE)
_HTML_LINK = re.compile(r"<a\s([^<>]*+)>([^<]*+)</a\s*+>", re.IGNORECASE)
# The last href in a tag's attributes and its value. The leading "[^<>]*" backtracks from the
# tag's end to each "href" once; nothing after the "href" can backtrack.
_HREF = re.compile(r"[^<>]*href\s*+=\s*+[\"']?+([^\"'\s<>]++)", re.IGNORECASE)
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]++)\]\(\s*+([^()\s]++)(?:\s[^()]*+)?+\)")


def _trim(url: str) -> str:
    end = _trimmed_end(url, len(url))
    # A closing parenthesis belongs to the URL only when the URL opened one (Wikipedia).
    # Counted once: recounting after each ")" made "x.ru/)))…" quadratic.
    surplus = url.count(")", 0, end) - url.count("(", 0, end)
    while surplus > 0 and url[end - 1 : end] == ")":
        end = _trimmed_end(url, end - 1)
        surplus -= 1
    return url[:end]


def _trimmed_end(url: str, end: int) -> int:
    """Where ``url[:end]`` ends once trailing punctuation is stripped."""
    while end and url[end - 1] in _TRAILING:
        end -= 1
    return end


def _html_target(match: re.Match[str]) -> str:
    href = _HREF.match(match.group(1))
    # A link tag without an href is left as written, as if never matched.
    return f" {href.group(1)} " if href else match.group(0)


def _unwrap_markup(text: str) -> str:
    text = _BBCODE_LINK.sub(lambda m: f" {m.group(1)} ", text)
    text = _HTML_LINK.sub(_html_target, text)
    return _MARKDOWN_LINK.sub(lambda m: f" {m.group(2)} ", text)


def find_links(text: str, known_hosts: Collection[str] = ()) -> list[str]:
    """Links in ``text`` as written (scheme URLs, www. hosts, bare domain.tld), in order.

    A bare "name.tld" counts when its TLD is a common one or its host is (under) one of
    ``known_hosts`` (listed shorteners, blocked domains). Each distinct link counts once:
    quoting the same source twice is not link spam, and a markup link that repeats its
    target as its text ("[url=X]X[/url]") is one link.
    """
    text = _unwrap_markup(text or "")
    found: list[tuple[int, str]] = []
    for pattern in (_SCHEME_URL, _WWW_URL):
        for match in pattern.finditer(text):
            found.append((match.start(), _trim(match.group(0))))
        # Blank what was found so the bare-domain pass does not see the same host again.
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    for match in _BARE_DOMAIN.finditer(text):
        if match.group(2).lower() in BARE_TLDS or domain_matches(match.group(1), known_hosts):
            found.append((match.start(), _trim(match.group(0))))
    seen: set[str] = set()
    links = []
    for _, link in sorted(found):
        key = link.casefold().rstrip("/")
        if link and key not in seen:
            seen.add(key)
            links.append(link)
    return links


def link_host(link: str) -> str | None:
    """The lower-case host of a link, with or without a scheme; None when there is none."""
    candidate = link if "://" in link else f"http://{link}"
    try:
        host = urlsplit(candidate).hostname
    except ValueError:  # e.g. an unbalanced "[" in what looked like an IPv6 literal
        return None
    return host.rstrip(".") if host else None


def display_link(link: str, width: int = 60) -> str:
    """A link shortened for a moderator's eye: no scheme, at most ``width`` characters."""
    shown = re.sub(r"^https?://", "", link, flags=re.IGNORECASE)
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def listing(items: Iterable[str], limit: int = 5) -> str:
    """A comma-separated list for a detail sentence, cut after ``limit`` items."""
    items = list(dict.fromkeys(items))
    return ", ".join(items[:limit]) + (", …" if len(items) > limit else "")


def pointed_hosts(
    email: str, url: str | None, content: str, known_hosts: Collection[str] = ()
) -> list[tuple[str, str]]:
    """Every host a comment points to, with where it was found (for the detail)."""
    hosts = []
    if domain := email_domain(email):
        hosts.append((domain, "e-mail domain"))
    if url and (host := link_host(url)):
        hosts.append((host, "author website"))
    for link in find_links(content, known_hosts):
        if host := link_host(link):
            hosts.append((host, f"link {display_link(link)}"))
    return hosts


def markup_kinds(text: str) -> list[str]:
    """Which link markups (BBCode, HTML, Markdown) appear: forms that only bots paste here."""
    return [name for name, pattern in _MARKUP.items() if pattern.search(text or "")]


def domain_matches(host: str, domains: Iterable[str]) -> str | None:
    """The entry of ``domains`` that ``host`` is, or is a subdomain of; None if none."""
    host = host.casefold().rstrip(".")
    for domain in domains:
        if host == domain or host.endswith("." + domain):
            return domain
    return None


def domain_in(domain: str, *sets: Collection[str]) -> str | None:
    """The first of ``domain`` and its parent domains found in any of ``sets``.

    Sets too large to scan (the ten thousand disposable domains) are probed per parent.
    """
    labels = domain.casefold().rstrip(".").split(".")
    for i in range(len(labels) - 1):
        parent = ".".join(labels[i:])
        if any(parent in entries for entries in sets):
            return parent
    return None


@lru_cache(maxsize=32)
def _networks(entries: frozenset[str]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # a typo in the list must not break every check
    return tuple(networks)


def ip_in_networks(address: str, entries: frozenset[str]) -> tuple[str, str] | None:
    """``(ip, entry)`` when ``address`` is one of, or inside one of, the listed networks.

    An IPv4 client seen through an IPv6 socket ("::ffff:203.0.113.5") is matched as IPv4.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for network in _networks(entries):
        if ip.version == network.version and ip in network:
            shown = str(network) if network.num_addresses > 1 else str(network.network_address)
            return str(ip), shown
    return None


def email_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().casefold().rstrip(".") or None


# --- words ------------------------------------------------------------------------------


# The package's lookup scans a table per call; a comment asks for the same few letters
# thousands of times.
_script = lru_cache(maxsize=65536)(categories.alias)


def is_invisible(ch: str) -> bool:
    """Zero-width, bidi and other format characters: invisible, so used to split words."""
    return unicodedata.category(ch) == "Cf"


@lru_cache(maxsize=4096)
def _latin_lookalike(ch: str) -> str:
    """The Latin letter a non-Latin letter imitates (Cyrillic "а" → "a"), else ``ch``."""
    if not ch.isalpha() or _script(ch) in ("LATIN", "COMMON", "INHERITED"):
        return ch
    for glyph in confusables.confusables_data.get(ch, ()):
        target = glyph["c"]
        if len(target) == 1 and _script(target) == "LATIN":
            return target
    return ch


def _mostly_latin(text: str) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    latin = sum(1 for ch in letters if _script(ch) == "LATIN")
    return bool(letters) and latin * 2 > len(letters)


def plain_form(text: str) -> str:
    """Text as written, for word matching: only case is folded."""
    return (text or "").casefold()


def skeleton_form(text: str) -> str:
    """Text with disguises undone: accents stripped, look-alike letters mapped to Latin.

    Only words that contain a Latin letter are mapped, or every word when the text is
    mostly Latin, so that a Russian or Ukrainian sentence is never read as Latin
    gibberish that might happen to spell a blocked English word.
    """
    text = text or ""
    if text.isascii():
        # Nothing to undo: ASCII has no accents, invisible or look-alike characters, and
        # normalization leaves it as it is. Most comments take this way.
        return text.casefold()
    return _unmasked(text)


def _unmasked(text: str) -> str:
    """:func:`skeleton_form` of any text."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(ch for ch in text if not is_invisible(ch) and not unicodedata.combining(ch))
    fold_all = _mostly_latin(text)

    def fold(match: re.Match[str]) -> str:
        word = match.group(0)
        if fold_all or any(_script(ch) == "LATIN" for ch in word if ch.isalpha()):
            return "".join(_latin_lookalike(ch) for ch in word)
        return word

    return unicodedata.normalize("NFKC", re.sub(r"\w+", fold, text)).casefold()


# --- characters and scripts -------------------------------------------------------------

_EMOJI_JOINER = "\u200d"


def invisible_chars(text: str) -> list[str]:
    """Invisible format characters, except a zero-width joiner inside an emoji sequence."""
    found = []
    for i, ch in enumerate(text or ""):
        if not is_invisible(ch):
            continue
        if ch == _EMOJI_JOINER:
            around = text[max(i - 1, 0) : i] + text[i + 1 : i + 2]
            if any(unicodedata.category(c) == "So" or 0x1F000 <= ord(c) for c in around):
                continue
        found.append(ch)
    return found


def char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}"


# Scripts of the East Asian writing systems: Japanese writes Han, Hiragana and Katakana in
# one word ("東京タワー"), Korean Hangul with Han, Chinese Han with Bopomofo, and all of
# them Latin brand names and numbers ("iPhone用", "LINEで"). Many Katakana look like Han
# ("タ" and "夕", "エ" and "工"): that is how the scripts are, not a disguise. Their letters
# are set aside before the look-alike check, which is about alphabets that share letter
# shapes with Latin (Cyrillic, Greek, Armenian, Cherokee…).
EAST_ASIAN_SCRIPTS = frozenset({"HAN", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO"})
_NEUTRAL_SCRIPTS = frozenset({"COMMON", "INHERITED"})


def mixed_script_words(text: str) -> list[tuple[str, list[str]]]:
    """Words that mix scripts with look-alike letters ("pаypal" with a Cyrillic "а").

    Returns ``(word, foreign letters)``. A word written in one script, in any language, is
    never reported; nor is a word of an East Asian writing system with or without Latin
    letters (:data:`EAST_ASIAN_SCRIPTS`), nor a Cyrillic word typed with a Latin "i" for
    "і", a common habit on keyboards without a Ukrainian layout.
    """
    found = []
    for word in dict.fromkeys(re.findall(r"\w+", text or "")):
        if word.isascii():
            continue  # every ASCII letter is Latin: one script
        letters = [ch for ch in word if ch.isalpha() and _script(ch) not in EAST_ASIAN_SCRIPTS]
        scripts = Counter(alias for alias in map(_script, letters) if alias not in _NEUTRAL_SCRIPTS)
        # Two-letter symbols ("ΔT", "μA") are notation, not disguise.
        if len(scripts) < 2 or len(letters) < 3:
            continue
        # Ties go to Latin: the disguise worth catching is of a Latin word.
        base = max(scripts, key=lambda alias: (scripts[alias], alias == "LATIN"))
        foreign = [ch for ch in letters if _script(ch) not in (base, "COMMON")]
        if base == "CYRILLIC" and all(ch in "iI" for ch in foreign):
            continue
        if confusables.is_confusable("".join(foreign), preferred_aliases=[base.lower()]):
            found.append((word, list(dict.fromkeys(foreign))))
    return found


def shouting_ratio(text: str) -> tuple[int, float]:
    """Number of cased letters and the share of them in upper case, links left out."""
    text = text or ""
    for link in find_links(text):
        text = text.replace(link, " ")
    cased = [ch for ch in text if ch.isupper() or ch.islower()]
    if not cased:
        return 0, 0.0
    return len(cased), sum(1 for ch in cased if ch.isupper()) / len(cased)


def repetition(text: str, run_chars: int = 10, run_words: int = 5) -> str | None:
    """What is repeated past reason, described for a moderator; None when nothing is.

    Whitespace runs are layout, not shouting, so only visible characters count.
    """
    text = text or ""
    match = re.search(rf"(\S)\1{{{run_chars - 1},}}", text)
    if match:
        return f'the character "{match.group(1)}" repeated {len(match.group(0))} times'
    words = [w.casefold() for w in re.findall(r"\w+", text)]
    for word, group in groupby(words):
        run = sum(1 for _ in group)
        if run >= run_words:
            return f'the word "{word}" {run} times in a row'
    if len(words) >= 10:
        word, count = Counter(words).most_common(1)[0]
        if count / len(words) > 0.4:
            return f'the word "{word}" is {count} of {len(words)} words'
    return None
