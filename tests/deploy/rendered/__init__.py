"""Each renderer's output read back into the expectation's words (tests/deploy/expected.py),
so that one test checks CloudFormation (sam.json) and Terraform (chalice.tf.json) alike.

A resource is named as the expectation names it: "table", "stream", "indexes",
"index/<name>", "queue/<name>", "key", "logs" (a function's own log group), "secret",
"configuration_set", "media_bucket", "media_objects", "carrier_messages",
"origination_identities", "default_origination_identity", "carrier_events_topic".
What one renderer has and the other has not stays in a test of its own.
"""

from tests.deploy.rendered.cloudformation import CloudFormation
from tests.deploy.rendered.terraform import Terraform, tf_ref

RENDERERS = {"cloudformation": CloudFormation, "terraform": Terraform}
__all__ = ["RENDERERS", "CloudFormation", "Terraform", "tf_ref"]
