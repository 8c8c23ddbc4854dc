"""The Terraform configuration's input variables (var.*): the stage, the table's name, the
region and the alarms' topic; on an End User Messaging stage, the configuration set's name,
the origination identities the sender may send from and the default one."""

from chalicelib.carriers import END_USER_MESSAGING


def declare(stage: str, carrier: str) -> dict:
    declared = {
        "stage": {
            "type": "string",
            "default": stage,
            "description": "Names the resources (function herald-<stage>, table "
            "herald-<stage>-messages); the settings are those of the Chalice stage packaged",
        },
        "table_name": {
            "type": "string",
            "default": None,
            "description": "Name of the messages table; empty means herald-<stage>-messages",
        },
        "region": {
            "type": "string",
            "default": None,
            "description": "AWS region; empty means the provider's usual lookup (AWS_REGION…)",
        },
    }
    declared["alarm_topic_arn"] = {
        "type": "string",
        "default": "",
        "description": "ARN of an SNS topic (in this region) every alarm notifies when it "
        "fires and when it recovers; empty means the alarms notify no one",
        "validation": [
            {
                "condition": '${var.alarm_topic_arn == "" || can(regex('
                '"^arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]+:[A-Za-z0-9_.-]+$", var.alarm_topic_arn))}',
                "error_message": "An SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), "
                "or empty.",
            }
        ],
    }
    if carrier == END_USER_MESSAGING:
        declared["configuration_set_name"] = {
            "type": "string",
            "default": None,
            "description": "End User Messaging configuration set created here, whose events "
            "reach the receipt queue; empty means herald-<stage>",
        }
        declared["origination_identity_arns"] = {
            "type": "list(string)",
            "description": "ARNs of the End User Messaging phone numbers, sender IDs and pools "
            "the sender may send from (and only those)",
            "validation": [
                {
                    "condition": "${length(var.origination_identity_arns) > 0 && alltrue("
                    '[for arn in var.origination_identity_arns : startswith(arn, "arn:")])}',
                    "error_message": "List at least one ARN (arn:…:sms-voice:…).",
                }
            ],
        }
        declared["default_origination_identity"] = {
            "type": "string",
            "default": "",
            "description": "Sender of an account with no sender of its own "
            "(HERALD_EUM_ORIGINATION_IDENTITY); empty means the message's From",
        }
    return declared
