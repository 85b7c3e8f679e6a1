import pytest

from passport.server import platform_urls, public_url_port_warning


@pytest.fixture
def environment(settings, monkeypatch):
    monkeypatch.setenv("PASSPORT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PASSPORT_KEY_PASSPHRASE", settings.key_passphrase)


def test_platform_urls_list_pages_and_apis(environment):
    urls = dict(platform_urls("127.0.0.1", 8123))
    assert urls["Sign in"] == "http://127.0.0.1:8123/sign-in"
    assert (
        urls["My training passport (Staff member)"] == "http://127.0.0.1:8123/wallet/"
    )
    assert urls["Verify a credential (HR officer)"] == "http://127.0.0.1:8123/hr/verify"
    assert (
        urls["VC-API credential verifier, POST"]
        == "http://127.0.0.1:8123/credentials/verify"
    )
    assert (
        urls["VC-API presentation verifier, POST"]
        == "http://127.0.0.1:8123/presentations/verify"
    )


@pytest.mark.parametrize(
    ("host", "base"),
    [("0.0.0.0", "http://127.0.0.1:80"), ("::1", "http://[::1]:80")],
)
def test_platform_urls_hosts(environment, host, base):
    label, url = platform_urls(host, 80)[0]
    assert url == f"{base}/sign-in"


@pytest.mark.parametrize(
    ("public_url", "port", "https", "suggested"),
    [
        ("http://127.0.0.1:5000", 8000, False, "http://127.0.0.1:8000"),
        ("http://localhost:5000", 8000, False, "http://localhost:8000"),
        ("http://[::1]:5000", 8000, False, "http://[::1]:8000"),
        ("http://127.0.0.1", 8000, False, "http://127.0.0.1:8000"),
        ("http://127.0.0.1:5000", 8443, True, "https://127.0.0.1:8443"),
    ],
)
def test_port_warning_names_value(public_url, port, https, suggested):
    warning = public_url_port_warning(public_url, port, https=https)

    assert warning is not None
    assert f"PASSPORT_PUBLIC_URL={suggested}" in warning


@pytest.mark.parametrize(
    ("public_url", "port"),
    [
        ("http://127.0.0.1:5000", 5000),
        ("http://127.0.0.1", 80),
        ("https://passport.example.org", 8000),
    ],
)
def test_port_warning_absent(public_url, port):
    assert public_url_port_warning(public_url, port, https=False) is None
