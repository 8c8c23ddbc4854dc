"""What each function is told (the expectation: VARIABLES and EUM_VARIABLES) and how it runs:
resources by reference, everything else outright from the stage, loading into sound settings;
arm64, its memory, its timeout, its log group kept as long as the stage says."""

import os

import pytest

from chalicelib.runtime import config
from deploy import package, shared
from tests.deploy.expected import FUNCTIONS, MEMORY, STAGE, TIMEOUTS, stage_on


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_is_told_its_resources_by_reference(rendered, carrier, variables, name):
    told = rendered.told(name)
    literal = {k: v for k, v in told.items() if rendered.is_literal(v)}
    referenced = {k: rendered.value(v) for k, v in told.items() if k not in literal}
    assert referenced == variables[name]
    check_literal_variables(name, literal, TIMEOUTS[name], carrier)


def check_literal_variables(name: str, literal: dict, timeout: int, carrier: str) -> None:
    """What the function is told outright is the stage's, and loads into sound settings."""
    assert literal == package.stage_config(STAGE, name, stage_on(carrier)).environment_variables
    assert literal[shared.CARRIER_VARIABLE] == carrier
    assert not [variable for variable in literal if shared.is_local_only(variable)]
    with pytest.MonkeyPatch.context() as patch:
        for variable in [v for v in os.environ if v.startswith("HERALD_")]:
            patch.delenv(variable)
        for variable, value in literal.items():
            patch.setenv(variable, value)
        delivery = config.delivery()
    assert delivery.allow_private_urls is False
    if name == "sender":
        # An expired claim must mean a worker that is gone: the lease outlives the function.
        assert delivery.lease_seconds > timeout


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_s_settings_come_from_the_stage(rendered, name, retention):
    assert rendered.function_settings(name) == {
        "architectures": ["arm64"],
        "memory": MEMORY[name],
        "timeout": TIMEOUTS[name],
        # After the stack's name (CloudFormation) or `herald-<stage>` (Terraform).
        "name": "" if name == "api_handler" else f"-{name}",
        "log_retention": retention,
        # Its log group (named before the function exists) and its permissions come first.
        "after": ["log_group", "policy"],
    }
