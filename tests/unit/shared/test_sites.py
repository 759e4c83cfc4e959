"""The pure parts of registering articles from their pages (shared.sites): origins, the
addresses Parley refuses to connect to, and what a page says about itself."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config import SettingsError, load_settings
from shared.sites.fetch import decode, private_hosts, refused_reason
from shared.sites.origins import NotAnOrigin, normalise_origin, origin_of, same_origin
from shared.sites.page import PageFacts, choose_title, choose_url, read_page

# --- origins ---------------------------------------------------------------------------

labels = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=3).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
)
schemes = st.sampled_from(["http", "https", "HTTP", "Https"])
ports = st.one_of(st.none(), st.integers(1, 65535))
paths = st.text(string.ascii_letters + string.digits + "/-_.~%", max_size=20)


def url_from(scheme, host, port, path):
    return f"{scheme}://{host}{'' if port is None else f':{port}'}/{path}"


@given(schemes, hosts, ports, paths)
def test_origin_of_any_http_url(scheme, host, port, path):
    url = url_from(scheme, host, port, path)
    origin = origin_of(url)
    assert origin is not None
    assert origin == origin.lower() or "[" in origin  # IPv6 literals keep their brackets
    assert origin_of(origin) == origin  # an origin is its own origin
    assert normalise_origin(origin) == origin
    assert same_origin(url, origin)
    default = {"http": 80, "https": 443}[scheme.lower()]
    assert origin.endswith(f":{port}") == (port is not None and port != default)


@given(schemes, hosts, ports, paths, hosts)
def test_another_host_is_another_origin(scheme, host, port, path, other):
    if other.lower() == host.lower():
        return
    assert not same_origin(
        url_from(scheme, other, port, path), origin_of(url_from(scheme, host, port, path))
    )


@given(st.text(max_size=60))
def test_origin_of_never_raises(text):
    origin = origin_of(text)
    assert origin is None or origin.startswith(("http://", "https://"))


@pytest.mark.parametrize(
    "url",
    [
        "ftp://news.example/",
        "javascript:alert(1)",
        "http://user:pw@news.example/",
        "http://news.example:99999/",
        "//news.example/",
        "http:///path",
        "https://news.example/a b",
    ],
)
def test_not_an_http_origin(url):
    assert origin_of(url) is None


@pytest.mark.parametrize(
    "text", ["https://news.example/path", "https://news.example?x=1", "https://news.example/#a"]
)
def test_an_origin_has_no_path_query_or_fragment(text):
    with pytest.raises(NotAnOrigin):
        normalise_origin(text)


def test_site_origins_setting_is_normalised_and_checked():
    settings = load_settings(
        {"PARLEY_SITE_ORIGINS": "https://News.Example/, https://news.example:443,http://[::1]:8080"}
    )
    assert settings.site_origins == ("https://news.example", "http://[::1]:8080")
    with pytest.raises(SettingsError, match="PARLEY_SITE_ORIGINS"):
        load_settings({"PARLEY_SITE_ORIGINS": "news.example"})
    with pytest.raises(SettingsError, match="PARLEY_SITE_VERIFY_LIMIT"):
        load_settings({"PARLEY_SITE_VERIFY_LIMIT": "lots"})
    with pytest.raises(SettingsError, match="PARLEY_SITE_FETCH_TIMEOUT"):
        load_settings({"PARLEY_SITE_FETCH_TIMEOUT": "0"})
    assert load_settings({}).site_origins == ()


# --- addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "198.51.100.7",
    ],
)
def test_non_public_addresses_are_refused(address):
    assert refused_reason(address)


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"])
def test_public_addresses_are_not(address):
    assert refused_reason(address) is None


def test_only_origins_written_as_private_addresses_or_localhost_may_be_private():
    origins = (
        "http://127.0.0.1:8080",
        "http://localhost:9000",
        "https://news.example",
        "http://[::1]:81",
        "http://2130706433",
    )
    assert private_hosts(origins) == frozenset({"127.0.0.1", "localhost", "::1"})


# --- pages -------------------------------------------------------------------------------


def test_a_page_tells_its_title_og_title_canonical_and_slugs():
    facts = read_page(
        "<html><head><TITLE> Budget &amp; vote\n — News </TITLE>"
        '<meta property="og:title" content="Budget &amp; vote">'
        '<link rel="alternate canonical" href="/news/budget">'
        '</head><body><div data-parley-article="budget"></div><title>not this</title></body>'
    )
    assert facts.title == "Budget & vote — News"
    assert facts.og_title == "Budget & vote"
    assert facts.canonical == "/news/budget"
    assert facts.slugs == ["budget"]


@given(st.text(max_size=300))
def test_any_text_reads_as_a_page(text):
    facts = read_page(text)
    for value in (facts.title, facts.og_title):
        assert value == value.strip() and not any(ord(ch) < 32 for ch in value)


@given(st.text(max_size=80), st.text(max_size=80), st.one_of(st.none(), st.text(max_size=80)))
def test_the_title_is_never_empty_nor_the_givens_alone(page_title, og, given_title):
    facts = read_page(f"<title>{page_title}</title>") if "<" not in page_title else PageFacts()
    facts.og_title = og.strip()
    title = choose_title(facts, given_title, "the-slug")
    assert 0 < len(title) <= 500
    if given_title and title == given_title.strip() and title not in (facts.og_title, facts.title):
        assert facts.title.casefold().startswith(title.casefold()) or title.casefold() in (
            facts.og_title.casefold(),
            facts.title.casefold(),
        )


def test_choose_url_keeps_the_canonical_only_on_the_site():
    origins = ("https://news.example",)
    fetched = "https://news.example/a?id=1#c"
    assert (
        choose_url(PageFacts(canonical="/story"), fetched, origins) == "https://news.example/story"
    )
    assert choose_url(PageFacts(canonical="https://evil.example/x"), fetched, origins) == (
        "https://news.example/a?id=1"
    )
    assert choose_url(PageFacts(canonical="javascript:x"), fetched, origins) == (
        "https://news.example/a?id=1"
    )


def test_decode_follows_the_declared_charset():
    assert decode("Café".encode("latin-1"), "text/html; charset=ISO-8859-1") == "Café"
    assert decode(b'<meta charset="latin-1">Caf\xe9', "text/html").endswith("Café")
    assert decode(b"Caf\xc3\xa9", "text/html; charset=nonsense") == "Café"
