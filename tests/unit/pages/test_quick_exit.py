"""The quick exit's target is checked when the app starts."""

from __future__ import annotations

import pytest

from app.config import BaseConfig, ConfigurationError, check_quick_exit_url


def test_the_default_is_an_https_site() -> None:
    assert check_quick_exit_url(BaseConfig.QUICK_EXIT_URL) == "https://www.google.com/"


@pytest.mark.parametrize(
    "url", ["https://www.wetter.de/", "https://example.org", "https://example.org:8443/a?b=c"]
)
def test_https_addresses_are_taken(url: str) -> None:
    assert check_quick_exit_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        42,
        "www.google.com",
        "/de/",
        "//www.google.com/",
        "http://www.google.com/",
        "javascript:alert(1)",
        "data:text/html,hallo",
        "https://",
        "https:///path",
        "https://user:secret@example.org/",
        "https://example.org/ a",
        "https://example.org/\n",
        "https://example.org:99999/",
        "https://[::1/",
        "http://127.0.0.1:5000/healthz",  # only where the app runs for development or tests
    ],
)
def test_anything_else_stops_the_start_and_names_the_setting(url: object) -> None:
    with pytest.raises(ConfigurationError, match="QUICK_EXIT_URL"):
        check_quick_exit_url(url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:5000/healthz", "http://localhost/"])
def test_development_and_tests_may_leave_to_this_machine(url: str) -> None:
    assert check_quick_exit_url(url, local=True) == url
    with pytest.raises(ConfigurationError):
        check_quick_exit_url("http://example.org/", local=True)
