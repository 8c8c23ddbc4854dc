"""The Terraform configuration: `chalice package --pkg-format terraform` output turned into
Herald's, for Terraform >= 1.5 and the AWS provider 5 and 6.

    configuration.py   convert() and versions.tf: the whole configuration; Chalice's
                       resources adjusted, the table, the queues, the AuthToken key, the
                       page-token secret and the outputs
    variables.py       the configuration's input variables (var.*)
    addresses.py       the addresses of what the configuration holds, and references to them
    functions.py       each function's role, policy, log group and variables, and its event
                       source mappings pointed at what the configuration creates
    carrier_events.py  the carrier events topic, the configuration set, the MMS media bucket
    alarms.py          the CloudWatch alarms

What they write is described once, for both templates, in deploy/shared.py and its siblings.
"""
