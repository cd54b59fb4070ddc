"""Behind a TLS proxy: `finmatch serve` believes X-Forwarded-Proto only from the proxies named
in FINMATCH_FORWARDED_ALLOW_IPS, and the pages' cookies are Secure when it does."""

import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn
from typer.testing import CliRunner


def _serve_arguments(monkeypatch: pytest.MonkeyPatch, allow: str | None) -> dict[str, Any]:
    from service import cli
    from service.core.settings import get_settings

    if allow is None:
        monkeypatch.delenv("FINMATCH_FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("FINMATCH_FORWARDED_ALLOW_IPS", allow)
    get_settings.cache_clear()
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: captured.update(kwargs, app=app))
    result = CliRunner().invoke(cli.app, ["serve", "--port", "0"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return captured


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sign_in_cookie(arguments: dict[str, Any]) -> str:
    """Serve with the arguments `finmatch serve` gave uvicorn; what cookie does the sign-in
    page set for a request its proxy says came over https?"""
    port = _free_port()
    config = uvicorn.Config(
        arguments["app"],
        factory=arguments["factory"],
        host="127.0.0.1",
        port=port,
        proxy_headers=arguments["proxy_headers"],
        forwarded_allow_ips=arguments["forwarded_allow_ips"],
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        response = httpx.get(
            f"http://127.0.0.1:{port}/web/sign-in",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"},
        )
        assert response.status_code == 200
        return response.headers["set-cookie"]
    finally:
        server.should_exit = True
        thread.join(10)


def test_by_default_only_a_proxy_on_this_host_is_believed(monkeypatch, database_url) -> None:
    arguments = _serve_arguments(monkeypatch, None)
    assert arguments["forwarded_allow_ips"] == "127.0.0.1"
    assert "secure" in _sign_in_cookie(arguments).lower()  # the request came from 127.0.0.1


def test_a_proxy_on_another_host_is_believed_only_when_named(monkeypatch, database_url) -> None:
    elsewhere = _serve_arguments(monkeypatch, "10.0.0.5")
    assert elsewhere["forwarded_allow_ips"] == "10.0.0.5"
    # 127.0.0.1 is not the named proxy: its X-Forwarded-Proto is not believed.
    assert "secure" not in _sign_in_cookie(elsewhere).lower()
    named = _serve_arguments(monkeypatch, "10.0.0.5, 127.0.0.0/8")
    assert "secure" in _sign_in_cookie(named).lower()


def test_a_proxy_setting_that_is_not_addresses_stops_the_start(monkeypatch) -> None:
    from pydantic import ValidationError

    from service.core.settings import Settings

    monkeypatch.setenv("FINMATCH_FORWARDED_ALLOW_IPS", "proxy.example")
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings()
    monkeypatch.setenv("FINMATCH_FORWARDED_ALLOW_IPS", "*")
    assert Settings().forwarded_allow_ips == "*"
