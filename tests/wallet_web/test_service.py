from datetime import UTC, datetime, timedelta

import pytest

from wallet_web.service import EXPIRING_WITHIN, CredentialStatus, credential_status

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("valid_until", "expected"),
    [
        (NOW + EXPIRING_WITHIN + timedelta(seconds=1), CredentialStatus.VALID),
        (NOW + EXPIRING_WITHIN, CredentialStatus.EXPIRING),
        (NOW + timedelta(days=1), CredentialStatus.EXPIRING),
        (NOW + timedelta(seconds=1), CredentialStatus.EXPIRING),
        # validUntil is the first instant the credential is no longer valid.
        (NOW, CredentialStatus.EXPIRED),
        (NOW - timedelta(days=400), CredentialStatus.EXPIRED),
        (None, CredentialStatus.VALID),
    ],
)
def test_status_boundaries(valid_until, expected):
    assert credential_status(NOW - timedelta(days=10), valid_until, NOW) is expected


def test_status_not_yet_valid():
    status = credential_status(NOW + timedelta(days=1), NOW + timedelta(days=400), NOW)
    assert status is CredentialStatus.NOT_YET_VALID


def test_expiring_window_is_60_days():
    assert EXPIRING_WITHIN == timedelta(days=60)


def test_status_labels():
    assert CredentialStatus.EXPIRING.label == "Expiring soon"
    assert CredentialStatus.EXPIRED.label == "Expired"
    assert CredentialStatus.VALID.label == "Valid"
