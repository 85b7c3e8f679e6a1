"""The passport report: each required subject held against what was shared."""

import csv
import io
from datetime import UTC, date, datetime

import pytest

from verifier import IssuerRegistry, TrustedIssuer, verify_credential
from verifier.fetch import FencedFetcher, FetchPolicy
from verifier.registry import CSTF_KIND
from verifier.report import PassportReport, ReportRow, build_report
from verifier.requirements import Profile
from verifier.status import StatusListCache

from .support import (
    issuer_key,
    running_server,
    status_list_credential,
    training_credential,
)

NOW = datetime(2026, 3, 31, 12, tzinfo=UTC)
ALIGNED = issuer_key(1)
NOT_ALIGNED = issuer_key(5)
HOLDER = issuer_key(2).controller
NURSE = Profile(
    "registered-nurse-adult-ward",
    "Registered nurse, adult ward",
    "",
    ("FS", "IGDS", "RES2A", "SA2", "SC2", "IPC2", "MH2", "HSW", "CR", "EDHR"),
)


@pytest.fixture
def report():
    with running_server() as server:
        base = server.origin + "/status/1"
        server.serve_json(
            "/status/1-revocation",
            status_list_credential(
                ALIGNED, base + "-revocation", "revocation", set_indexes=(5,)
            ),
        )
        server.serve_json(
            "/status/1-suspension",
            status_list_credential(
                ALIGNED, base + "-suspension", "suspension", set_indexes=(6,)
            ),
        )
        registry = IssuerRegistry(
            [
                TrustedIssuer(
                    ALIGNED.controller,
                    "Chelmer Valley",
                    cstf_aligned=True,
                    may_issue=frozenset({"TrainingCredential", CSTF_KIND}),
                    origins=(server.origin,),
                ),
                TrustedIssuer(
                    NOT_ALIGNED.controller,
                    "Thames Reach",
                    may_issue=frozenset({"TrainingCredential"}),
                    origins=(server.origin,),
                ),
            ]
        )
        lists = StatusListCache(FencedFetcher(FetchPolicy(allow_http=True, timeout=1)))

        def issue(code, completed, index, key=ALIGNED):
            return training_credential(
                key, HOLDER, code, completed, status_url=base, index=index
            )

        credentials = [
            issue("FS", date(2025, 6, 1), 1),  # 2 years: accepted
            issue("IGDS", date(2025, 4, 20), 2),  # 1 year: 19 days left
            issue("RES3A", date(2025, 5, 20), 3),  # satisfies RES2A, 49 days left
            issue("SA3", date(2023, 6, 10), 4),  # satisfies SA2, 71 days left
            issue("SC2", date(2025, 1, 1), 5),  # revoked
            issue("IPC2", date(2025, 6, 1), 6),  # suspended
            issue("MH2", date(2023, 1, 1), 7),  # expired
            issue("HSW", date(2025, 1, 1), 8, key=NOT_ALIGNED),  # CSTF from non-aligned
            issue("EDHR", date(2024, 1, 1), 9, key=issuer_key(9)),  # unknown issuer
            issue(
                "SA1", date(2025, 1, 1), 10
            ),  # lower level than SA2: ignored, SA3 wins
        ]
        results = [
            verify_credential(c, now=NOW, registry=registry, status_lists=lists)
            for c in credentials
        ]
        report = build_report(NURSE, results, now=NOW)
        report.results = results
        yield report


def rows(report):
    return {row.subject_code: row for row in report.rows}


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("FS", "accepted"),
        ("IGDS", "expiring-30"),
        ("RES2A", "expiring-60"),
        ("SA2", "expiring-90"),
        ("SC2", "revoked"),
        ("IPC2", "suspended"),
        ("MH2", "expired"),
        ("HSW", "not-accepted"),
        ("EDHR", "not-accepted"),
        ("CR", "missing"),
    ],
)
def test_report_outcomes(report, code, outcome):
    assert rows(report)[code].outcome == outcome


def test_rows_follow_profile_order(report):
    assert [row.subject_code for row in report.rows] == list(NURSE.requirements)


def test_higher_level_named(report):
    row = rows(report)["RES2A"]

    assert row.held_code == "RES3A"
    assert "which satisfies it" in row.reason


def test_reasons_given(report):
    by_code = rows(report)

    assert "has not declared CSTF alignment" in by_code["HSW"].reason
    assert "is not a member of the partnership" in by_code["EDHR"].reason
    assert "revoked" in by_code["SC2"].reason
    assert by_code["CR"].reason == "No credential for this subject was shared."


def test_expiry_shown(report):
    row = rows(report)["IGDS"]

    assert row.expires_on == date(2026, 4, 20)
    assert row.days_left == 19


def test_lower_level_not_accepted():
    credential = training_credential(ALIGNED, HOLDER, "SA1", date(2025, 6, 1))
    registry = IssuerRegistry(
        [TrustedIssuer(ALIGNED.controller, "Chelmer", cstf_aligned=True)]
    )
    result = verify_credential(credential, now=NOW, registry=registry)
    profile = Profile("p", "P", "", ("SA2",))

    row = build_report(profile, [result], now=NOW).rows[0]

    assert row.outcome == "not-accepted"
    assert "Safeguarding Adults - Level 1" in row.reason
    assert "level is too low" in row.reason


def test_failed_presentation_accepts_nothing(report):
    failed = build_report(
        NURSE, report.results, now=NOW, presentation_problems=["holder-binding: no"]
    )

    assert "holder-binding: no" in failed.notes[0]
    assert {row.outcome for row in failed.rows} == {"not-accepted", "missing"}


def test_csv_export(report):
    table = list(csv.DictReader(io.StringIO(report.to_csv())))

    assert [line["subject_code"] for line in table] == list(NURSE.requirements)
    assert table[0]["outcome"] == "accepted"
    assert table[1]["expires_on"] == "2026-04-20"


def test_csv_cells_never_formulas():
    # A partner's issuing API chooses the codes and ids a credential carries,
    # so every text cell of HR's CSV is guarded, not only names and reasons.
    hostile = '=HYPERLINK("https://example.invalid")'
    row = ReportRow(
        subject_code="SA2",
        title="Safeguarding Adults",
        outcome="accepted",
        reason="@SUM(1)",
        credential_id=hostile,
        held_code="+SA3",
        issuer_name="-Trust",
    )
    report = PassportReport(profile=NURSE, generated_at=NOW, rows=[row])

    line = next(csv.DictReader(io.StringIO(report.to_csv())))

    assert line["credential_id"] == "'" + hostile
    assert line["held_code"] == "'+SA3"
    assert line["reason"] == "'@SUM(1)"
    assert line["issuer"] == "'-Trust"
    assert line["subject_code"] == "SA2"


def test_counts(report):
    counts = report.counts()

    assert counts["not-accepted"] == 2
    assert counts["missing"] == 1
    assert sum(counts.values()) == len(NURSE.requirements)
