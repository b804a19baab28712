"""What the consent log may know about a visitor: a coarse user agent and a truncated IP.

Never the raw user-agent string, never the full address.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import NamedTuple

import user_agents


class CoarseAgent(NamedTuple):
    browser: str
    os: str
    device: str  # desktop, mobile, tablet, bot or other
    is_bot: bool


@lru_cache(maxsize=4096)
def coarse_agent(ua_string: str) -> CoarseAgent:
    """Browser family, OS family and device class; parsing is slow, so it is cached."""
    ua = user_agents.parse(ua_string[:512])
    if ua.is_bot or not ua_string:
        device = "bot"
    elif ua.is_tablet:
        device = "tablet"
    elif ua.is_mobile:
        device = "mobile"
    elif ua.is_pc:
        device = "desktop"
    else:
        device = "other"
    return CoarseAgent(ua.browser.family[:40], ua.os.family[:40], device, device == "bot")


@lru_cache(maxsize=8192)
def truncate_ip(address: str | None) -> str | None:
    """IPv4 to its /24, IPv6 to its /48: enough for abuse triage, not to single anyone out."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False).network_address)
