"""Which webhook URLs are refused (docs/contract.md §4): loopback, link-local, private,
shared, reserved and multicast addresses, however written, and anything but http(s)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.webhooks.addresses import AddressRefused, checked_addresses, refused_reason, url_errors

BLOCKED_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
BLOCKED_V6 = ["::1/128", "fe80::/10", "fc00::/7", "ff00::/8", "::/128"]
PUBLIC_V4 = ["8.8.0.0/16", "1.1.1.0/24", "93.184.216.0/24", "151.101.0.0/16"]
PUBLIC_V6 = ["2606:4700::/32", "2a00:1450::/32"]


def address_in(networks: list[str]):
    """Any address of one of ``networks``."""

    def pick(net: str):
        network = ipaddress.ip_network(net)
        return st.integers(0, network.num_addresses - 1).map(lambda i: network[i])

    return st.sampled_from(networks).flatmap(pick)


@given(address_in(BLOCKED_V4))
def test_blocked_ipv4_is_refused_as_itself_and_mapped_into_ipv6(ip):
    assert refused_reason(str(ip))
    assert refused_reason(f"::ffff:{ip}")  # IPv4-mapped
    assert refused_reason(str(ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80))))  # 6to4
    with pytest.raises(AddressRefused):
        checked_addresses(str(ip), 80, allow_private=False)
    assert url_errors(f"http://{ip}:8080/hook", allow_private=False)


@given(address_in(BLOCKED_V6))
def test_blocked_ipv6_is_refused(ip):
    assert refused_reason(str(ip))
    assert url_errors(f"https://[{ip}]/hook", allow_private=False)


@given(address_in(PUBLIC_V4 + PUBLIC_V6))
def test_public_addresses_pass(ip):
    assert refused_reason(str(ip)) is None
    assert checked_addresses(str(ip), 443, allow_private=False) == [str(ip)]


@pytest.mark.parametrize(
    "host",
    ["localhost", "127.1", "0x7f.0.0.1", "2130706433", "017700000001", "[::ffff:127.0.0.1]"],
)
def test_loopback_however_written_is_refused(host):
    """Names and the shorthand forms the resolver accepts are judged by what they resolve to."""
    assert url_errors(f"http://{host}/hook", allow_private=False)
    assert url_errors(f"http://{host}/hook", allow_private=True) == []


@given(st.text(max_size=300))
def test_any_string_is_judged_without_raising(text):
    errors = url_errors(text, allow_private=False)
    assert isinstance(errors, list)
    if not text.startswith(("http://", "https://")):
        assert errors


@pytest.mark.parametrize(
    "url",
    [
        "ftp://8.8.8.8/x",
        "file:///etc/passwd",
        "gopher://8.8.8.8/",
        "http://user:pw@8.8.8.8/",
        "http:///nohost",
        "http://8.8.8.8/a b",
        "http://8.8.8.8:99999/",
        "http://8.8.8.8/#frag",
        "http://" + "a" * 2050 + ".example/",
        None,
        42,
    ],
)
def test_bad_urls_are_refused(url):
    assert url_errors(url, allow_private=True)


def test_a_name_that_does_not_resolve_is_refused():
    assert url_errors("https://no-such-host.invalid/hook", allow_private=False)
