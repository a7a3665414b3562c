import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from open12306.http.client_address import client_address, trusted_networks

PROXIES = trusted_networks(["10.0.0.0/8", "fd00::/8", "192.0.2.1"])


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", [], "203.0.113.9"),
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # an untrusted peer's header: ignored
        ("10.0.0.5", [], "10.0.0.5"),  # a proxy calling by itself
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # the client's own left part
        ("10.0.0.5", ["6.6.6.6", "198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # two header lines
        ("10.0.0.5", ["198.51.100.1, 10.1.2.3, 192.0.2.1"], "198.51.100.1"),  # proxy chain
        ("10.0.0.5", ["10.1.1.1, 10.2.2.2"], "10.1.1.1"),  # every hop trusted: the leftmost
        ("10.0.0.5", ["not-an-address, 10.2.2.2"], "10.2.2.2"),  # junk ends the walk
        ("10.0.0.5", ["198.51.100.1:4711"], "198.51.100.1"),
        ("10.0.0.5", ["[2001:db8::1]:4711"], "2001:db8::1"),
        ("10.0.0.5", [" 2001:db8::1 ,"], "2001:db8::1"),
        ("fd00::5", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("::ffff:10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("testclient", ["198.51.100.1"], "testclient"),
        (None, ["198.51.100.1"], None),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(
    peer: str | None, forwarded: list[str], client: str | None
) -> None:
    assert client_address(peer, forwarded, PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address("10.0.0.5", ["198.51.100.1"], ()) == "10.0.0.5"


def test_a_bad_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError):
        trusted_networks(["10.0.0.0/33"])


public_v4 = st.integers(0xCB007100, 0xCB0071FF).map(lambda n: str(ipaddress.IPv4Address(n)))
proxy_v4 = st.integers(0x0A000000, 0x0AFFFFFF).map(lambda n: str(ipaddress.IPv4Address(n)))
junk = st.lists(st.text(alphabet="0123456789abcdef.:[] x-", max_size=12), max_size=4)


@given(client=public_v4, written=junk, proxies=st.lists(proxy_v4, max_size=3), peer=proxy_v4)
def test_whatever_the_client_writes_it_is_found_behind_trusted_proxies(
    client: str, written: list[str], proxies: list[str], peer: str
) -> None:
    chain = ", ".join([*written, client, *proxies])
    assert client_address(peer, [chain], PROXIES) == client


@given(peer=public_v4, written=junk)
def test_an_untrusted_peer_is_the_client_whatever_it_writes(peer: str, written: list[str]) -> None:
    assert client_address(peer, [", ".join(written)], PROXIES) == peer
