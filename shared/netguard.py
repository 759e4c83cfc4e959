"""Which addresses Parley may connect to on someone else's say-so: a webhook receiver's
URL (shared/webhooks/addresses.py) or a page that registers its article
(shared/sites/fetch.py). Both resolve the host at each connection and refuse it if any of
its addresses is not a public one, so neither can be aimed at the machine's own services or
its private network."""

from __future__ import annotations

import ipaddress

# IANA special-purpose blocks refused whatever this Python's ipaddress tables say of them
# (they changed between versions): IETF protocol assignments, shared (carrier-grade NAT),
# benchmarking, documentation, NAT64 local use, discard-only.
SPECIAL = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "240.0.0.0/4",
        "64:ff9b:1::/48",
        "100::/64",
        "2001:db8::/32",
    )
)


def refused_reason(address: str) -> str | None:
    """Why ``address`` (an IP address) may not be connected to, or None if it is public.
    An IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo) is judged as itself."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            reason = refused_reason(str(embedded))
            if reason:
                return f"{reason} (as {ip})"
    if ip.is_loopback:
        return f"{ip} is a loopback address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_reserved or not ip.is_global or any(ip in net for net in SPECIAL):
        return f"{ip} is not a public address"
    return None
