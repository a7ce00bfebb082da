"""Whose address a request comes from (AUTH-11 counts failures per client address)."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from pydantic import ValidationError

from resolvers.accounts.throttle import KEY_WIDTH, db_key
from server.middleware import client_address
from server.settings import Settings

PROXY = (ip_network("10.0.0.0/24"),)


def test_forwarded_for_only_from_a_trusted_proxy() -> None:
    # AUTH-11: the header is believed only when the peer is a configured proxy.
    assert client_address("198.51.100.7", "203.0.113.9", ()) == "198.51.100.7"
    assert client_address("198.51.100.7", "203.0.113.9", PROXY) == "198.51.100.7"
    assert client_address("10.0.0.5", "203.0.113.9", PROXY) == "203.0.113.9"
    # The nearest hop our proxies did not add: a client's own first entry is a lie.
    assert client_address("10.0.0.5", "1.2.3.4, 203.0.113.9, 10.0.0.6", PROXY) == "203.0.113.9"
    # A hop that is not an address stops the walk at the proxy that passed it on.
    assert client_address("10.0.0.5", "x" * 300, PROXY) == "10.0.0.5"
    assert client_address("10.0.0.5", "203.0.113.9, junk", PROXY) == "10.0.0.5"
    assert client_address("10.0.0.5", "2001:DB8::1", PROXY) == "2001:db8::1"
    assert client_address("10.0.0.5", None, PROXY) == "10.0.0.5"


def test_no_proxy_is_trusted_by_default_and_a_typo_is_refused() -> None:
    # AUTH-11: not even 127.0.0.1 unless configured; a bad entry stops the start.
    assert Settings(_env_file=None).proxy_networks == ()
    assert Settings(trusted_proxies="10.0.0.5, 10.1.0.0/24", _env_file=None).proxy_networks
    with pytest.raises(ValidationError):
        Settings(trusted_proxies="10.0.0.300", _env_file=None)


def test_throttle_keys_fit_their_column_and_stay_apart() -> None:
    # AUTH-11: a key longer than the column is stored as its hash, still counted.
    long_a, long_b = "login-ip:" + "1" * 200, "login-ip:" + "1" * 199 + "2"
    assert len(db_key(long_a)) <= KEY_WIDTH and db_key(long_a) != db_key(long_b)
    assert db_key("patron:123") == "patron:123"
    assert len(db_key("reset:" + "\ud800" * 100)) <= KEY_WIDTH
