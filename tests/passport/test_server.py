import pytest

from passport.server import platform_urls


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
