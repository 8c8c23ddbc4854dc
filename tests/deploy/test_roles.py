"""The six functions, each with a role of its own that may do exactly what its function needs
(the expectation: GRANTS and EUM_GRANTS), with no wildcard action or resource."""

import json

import pytest

from tests.deploy.expected import FUNCTIONS, PLACEHOLDER_ROLE


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_role_may_do_exactly_what_its_function_needs(rendered, grants, name):
    assert rendered.grants(name) == grants[name]


def test_the_six_functions_each_have_a_role_of_its_own(rendered):
    assert set(rendered.functions()) == set(FUNCTIONS)
    roles = [rendered.role_of(name) for name in FUNCTIONS]
    assert len(set(roles)) == len(roles) == len(rendered.roles())
    # One policy of its own each, and nothing attached beside it.
    assert sorted(rendered.policy_roles()) == sorted(roles)
    assert rendered.managed_policies() == []
    assert PLACEHOLDER_ROLE not in json.dumps(rendered.doc)
    for actions, resources in rendered.statements():
        assert not any("*" in action for action in actions), (actions, resources)
        assert "*" not in resources
