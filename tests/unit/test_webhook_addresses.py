"""The one check every entrance uses for a staff member's webhook address."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.receivers import addresses_of
from shouwang.domain.errors import InvalidInput
from shouwang.domain.webhooks import InvalidWebhook, check_webhook_url, internal_host, receiver_of
from tests.support import loopback_name


@pytest.mark.parametrize("url", [
    "https://example.org/hooks/wang",
    "https://hooks.example.org:8443/a/b?staff=3",
    "https://例子.中国/x",
    "https://[2001:db8::1]:8443/h",
    "https://receiver/h",  # a one-word host on a private network
    "HTTPS://Example.org/",
])
def test_real_https_addresses_are_accepted(url: str) -> None:
    address = check_webhook_url(url, allow_http=False)
    assert (address.url, address.plain_http) == (url, False)


@pytest.mark.parametrize(("url", "says"), [
    ("https://…", "placeholder"),
    ("https://example.org/hooks/<user>", "placeholder"),
    ("https://example.org/a b", "' ' at position 21"),
    ("https://exa mple.org/", "' ' at position 11"),
    ("https://example.org/\n", "'\\n'"),
    ("ftp://example.org/", "not an http(s) URL"),
    ("example.org/hook", "not an http(s) URL"),
    ("https:///hook", "not an http(s) URL"),
    ("https://a..b/", "not a host name"),
    ("https://-a.example.org/", "not a host name"),
    ("https://.../", "not a host name"),
    ("https://example.org:99999/", "port"),
    ("https://example.org:0/", "port"),
    ("https://user:secret@example.org/", "password"),
    ("https://[not-v6]/", "IPv6"),
    ("https://[::1/", "IPv6"),
    ("https://example.org/" + "a" * 1000, "at most 1000"),
    # found by a tester: what a resolver reads as an address, and addresses that are no receiver
    ("http://2130706433/", "four numbers"),
    ("http://127.1/", "four numbers"),
    ("http://0x7f.0.0.1/", "four numbers"),
    ("http://169.254.169.254/latest/meta-data/", "never a receiver"),
    ("http://0.0.0.0:8080/", "never a receiver"),
    ("http://[fe80::1]/h", "never a receiver"),
    ("http://[::ffff:169.254.169.254]/h", "never a receiver"),
    ("http://224.0.0.1/h", "never a receiver"),
])
def test_addresses_that_can_never_be_delivered_to_are_refused_with_the_reason(
    url: str, says: str,
) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        check_webhook_url(url, allow_http=True)
    assert says in str(refused.value)
    assert isinstance(refused.value, InvalidInput)  # the API and the CLI already answer these


def test_plain_http_needs_an_explicit_allowance_and_is_marked() -> None:
    with pytest.raises(InvalidWebhook, match=r"plain http.*--allow-http"):
        check_webhook_url("http://10.0.0.5:8080/h", allow_http=False)
    address = check_webhook_url("http://10.0.0.5:8080/h", allow_http=True)
    assert address.plain_http and address.receiver == "10.0.0.5:8080"


def test_the_receiver_is_host_and_port_so_one_platform_is_one_receiver() -> None:
    assert receiver_of("https://Hooks.example.org/a") == receiver_of("https://hooks.example.org:443/b")
    assert receiver_of("http://hooks.example.org/a") == "hooks.example.org:80"
    assert receiver_of("https://h:99999/") == "https://h:99999/"


@given(st.text(max_size=60))
def test_whatever_is_accepted_is_an_address_the_http_client_can_send_to(tail: str) -> None:
    for url in (f"https://{tail}", f"https://example.org/{tail}", f"http://{tail}/x"):
        try:
            address = check_webhook_url(url, allow_http=True)
        except InvalidWebhook:
            continue
        request = httpx.Request("POST", address.url)
        assert request.url.scheme in ("http", "https") and request.url.host


@pytest.mark.parametrize(("url", "inside"), [
    ("http://127.0.0.1:8080/h", True), ("http://10.0.0.5/h", True), ("http://192.168.1.9/h", True),
    ("http://localhost:9000/h", True), ("http://[::1]/h", True), ("http://[::ffff:10.1.2.3]/h", True),
    ("https://example.org/h", False), ("https://1.2.3.4/h", False), ("https://receiver/h", False),
])
def test_an_address_inside_the_machine_or_its_network_is_named(url: str, inside: bool) -> None:
    assert (internal_host(url, addresses_of=addresses_of) is not None) is inside


def test_a_name_this_machine_resolves_to_itself_is_inside_it() -> None:
    """Found by a regression tester: names were not resolved, so a name for 127.0.0.1 was taken."""
    name = loopback_name()
    if name is None:
        pytest.skip("this machine's /etc/hosts names no loopback address but localhost")
    assert internal_host(f"http://{name}:9000/x", addresses_of=addresses_of) is not None
    assert internal_host(f"http://{name}:9000/x") is None
