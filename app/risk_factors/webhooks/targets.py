"""Where a webhook may be sent: public https servers only, checked again at every delivery.

A webhook URL is chosen by whoever subscribes (an admin or a unit key), and Vigía's server
makes the request: without these checks a subscription is a way to reach the municipal
network, the cloud metadata service or the database port (SSRF), and the delivery results a
port scanner. The rules, in one place:

- `https` only; plain `http` only for the hosts the operator lists in
  VIGIA_WEBHOOK_HTTP_ALLOWED_HOSTS (trusted internal receivers, exempt from the address check);
- no user or password in the URL;
- the host is resolved and EVERY address must be public: loopback, private, CGNAT, link-local
  (metadata 169.254.169.254, fd00:ec2::254), multicast, reserved, unspecified and the IPv4
  addresses hidden inside IPv6 (mapped, 6to4, Teredo, NAT64) are refused. Numeric IPv4 forms
  (2130706433, 0x7f.1, 017700000001) are read as the address they mean, never resolved;
- the delivery connects to the address vetted a moment before (`Target.address`) with the
  original Host header and TLS name, so a second DNS answer cannot swap it (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# host name -> the addresses it resolves to (as text); raises OSError when it does not resolve
Resolver = Callable[[str], list[str]]

# Explicit on top of `is_global`, so the refusal does not depend on the Python version's
# tables (and multicast, which `is_global` lets through, is named).
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network", unspecified
        "10.0.0.0/8",
        "100.64.0.0/10",  # CGNAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "fc00::/7",  # unique local (AWS metadata fd00:ec2::254)
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",  # multicast
        "2001:db8::/32",
        "100::/64",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62}\.?)*$")

REASON_SCHEME = "debe ser https:// (http solo para servidores autorizados por el operador)"
REASON_USERINFO = "no puede llevar usuario ni contraseña"
REASON_UNRESOLVED = "el servidor no se pudo resolver"
REASON_PRIVATE = (
    "el servidor resuelve a una dirección no pública (red interna, loopback, "
    "enlace local, metadatos, multicast o reservada)"
)


@dataclass(frozen=True)
class Target:
    """A vetted destination: the subscribed URL and the one address to connect to."""

    url: str
    host: str
    address: str


def resolve_host(host: str) -> list[str]:
    """The system resolver; tests replace it (they never send DNS queries)."""
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(
        f"La URL del webhook no es un destino permitido: {reason}.",
        errors=[{"field": "url", "location": "body", "reason": reason}],
    )


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IpAddress) -> bool:
    """True when `ip` is a globally routable unicast address (and so is any IPv4 inside it)."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None and not is_public(inner):
            return False
    if ip.is_multicast or ip.is_unspecified or ip.is_loopback or ip.is_link_local:
        return False
    if ip.is_private or ip.is_reserved or not ip.is_global:
        return False
    return not any(ip.version == net.version and ip in net for net in BLOCKED_NETWORKS)


def _literal(host: str) -> IpAddress | None:
    """The address a numeric host means, in any of the forms a resolver would accept."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host):
        try:  # 2130706433, 0x7f.1, 017700000001, 127.1 ...
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _addresses(host: str, resolve: Resolver) -> list[IpAddress]:
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]
    except (OSError, UnicodeError, ValueError):
        found = []
    if not found:
        raise _refuse(REASON_UNRESOLVED)
    return found


def vet(url: str, *, http_allowed_hosts: Iterable[str], resolve: Resolver) -> Target:
    """Check `url` and resolve it now; InvalidInput (field `url`) says why it is refused."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
        if host and not _literal(host):
            host = host.encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise _refuse("URL mal formada") from None
    if parts.scheme not in ("http", "https") or not host:
        raise _refuse("se espera https://servidor/ruta")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise _refuse(REASON_USERINFO)
    if port == 0 or (_literal(host) is None and not _HOSTNAME.match(host)):
        raise _refuse("URL mal formada")
    trusted = host in {h.strip().lower().rstrip(".") for h in http_allowed_hosts}
    if parts.scheme == "http" and not trusted:
        raise _refuse(REASON_SCHEME)
    addresses = _addresses(host, resolve)
    if not trusted and not all(is_public(a) for a in addresses):
        raise _refuse(REASON_PRIVATE)
    return Target(url=url.strip(), host=host, address=str(addresses[0]))
