"""What holds for the suite itself."""

from tests.outbound import test_client, test_signing


def test_hypothesis_tests_draw_the_same_examples_every_run():
    """tests/conftest.py loads a derandomized profile with no example database, which every
    test's own @settings inherit: these two set neither themselves."""
    for test in (
        test_client.test_property_every_form_of_a_private_ipv4_is_refused,
        test_signing.test_property_request_validator_accepts_every_signature,
    ):
        used = test._hypothesis_internal_use_settings
        assert (used.derandomize, used.database) == (True, None), test.__name__
