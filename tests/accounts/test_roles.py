import pytest

from accounts.roles import Role, define_role, role_definition, role_label


def test_builtin_roles_defined():
    assert role_definition(Role.STAFF).organisation_scoped is False
    assert role_definition(Role.HR).organisation_scoped is True
    assert role_label(Role.ISSUER_ADMIN) == "Issuer administrator"


def test_define_role_returns_name():
    name = define_role("assessor_test", "Assessor")
    assert name == "assessor_test"
    assert role_label(name) == "Assessor"


def test_define_role_again_same_is_allowed():
    define_role("ward_nurse_test", "Ward nurse")
    assert define_role("ward_nurse_test", "Ward nurse") == "ward_nurse_test"


def test_define_role_conflict_rejected():
    define_role("programme_lead_test", "Programme lead")
    with pytest.raises(ValueError, match="already defined"):
        define_role("programme_lead_test", "Someone else")


@pytest.mark.parametrize("name", ["", "HR", "1admin", "a-b", "x" * 33, "a b"])
def test_define_role_bad_name_rejected(name):
    with pytest.raises(ValueError, match="invalid"):
        define_role(name, "Label")


def test_undefined_role_label_is_name():
    assert role_label("not_defined_anywhere") == "not_defined_anywhere"
