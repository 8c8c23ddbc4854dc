"""The CloudFormation (SAM) template: `chalice package` output turned into Herald's stack.

    stack.py           convert(): the whole template; its parameters, the table, the queues,
                       the AuthToken key, the page-token secret and the outputs
    logical_ids.py     the logical IDs of what the template holds
    functions.py       each function's role, policy, log group and variables, and its event
                       sources pointed at what the stack creates
    carrier_events.py  the carrier events topic, the configuration set, the MMS media bucket
    alarms.py          the CloudWatch alarms

What they write is described once, for both templates, in deploy/shared.py and its siblings.
"""
