"""The template `chalice package --merge-template` merges into Chalice's SAM template.

Chalice's template has the function (`APIHandler`), its log group (`ApiHandlerLogGroup`)
and the API (`RestAPI`); this one adds the table, the function's role and policy and the
page-token secret, and points the function at them by reference. The merge is a deep merge
of dictionaries, so the keys below that name Chalice's resources only add or replace the
properties they list.
"""

from chalicelib import storage
from deploy import shared

TABLE = "MessagesTable"
ROLE = "FunctionRole"
POLICY = "FunctionPolicy"
SECRET = "PageTokenSecret"
# Chalice's own logical IDs.
FUNCTION = "APIHandler"
LOG_GROUP = "ApiHandlerLogGroup"
API = "RestAPI"


def merge_template(stage: str) -> dict:
    return {
        "Description": f"Herald, a Twilio-compatible Messages API (stage {stage})",
        "Parameters": _parameters(stage),
        "Resources": {
            TABLE: _table(),
            ROLE: _role(),
            POLICY: _policy(),
            SECRET: _secret(),
            FUNCTION: _function_overrides(),
            LOG_GROUP: _log_group_overrides(),
            API: _api_overrides(),
        },
        "Outputs": {
            "TableName": {"Value": {"Ref": TABLE}},
            "TableArn": {"Value": {"Fn::GetAtt": [TABLE, "Arn"]}},
        },
    }


def _parameters(stage: str) -> dict:
    return {
        "TableName": {
            "Type": "String",
            "Default": shared.default_table_name(stage),
            "AllowedPattern": "[a-zA-Z0-9_.-]{3,255}",
            "Description": "Name of the messages table (kept when the stack is deleted)",
        }
    }


def _table() -> dict:
    definition = shared.table_definition()
    return {
        "Type": "AWS::DynamoDB::Table",
        # The table outlives the stack and any replacement: messages are the users' data.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": {"Ref": "TableName"},
            **definition,
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            # SSEEnabled uses the AWS-managed KMS key (alias/aws/dynamodb).
            "SSESpecification": {"SSEEnabled": True},
            "DeletionProtectionEnabled": True,
            "TimeToLiveSpecification": {
                "AttributeName": storage.TTL_ATTRIBUTE,
                "Enabled": True,
            },
        },
    }


def _role() -> dict:
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": "Herald's function: see FunctionPolicy for everything it may do",
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
        },
    }


def _policy() -> dict:
    statements = shared.policy_statements(
        table_arn={"Fn::GetAtt": [TABLE, "Arn"]},
        index_arns={"Fn::Sub": "${" + TABLE + ".Arn}/index/*"},
        # A log group's Arn attribute already ends in ":*", which covers its streams.
        log_streams_arn={"Fn::GetAtt": [LOG_GROUP, "Arn"]},
    )
    return {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "herald-function",
            "Roles": [{"Ref": ROLE}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
        },
    }


def _secret() -> dict:
    return {
        "Type": "AWS::SecretsManager::Secret",
        "Properties": {
            "Description": "Herald's HMAC key for PageTokens (resolved into the function "
            "at deploy time; a new value takes effect at the next deploy)",
            "GenerateSecretString": {
                "PasswordLength": shared.SECRET_LENGTH,
                "ExcludePunctuation": True,
            },
        },
    }


def _function_overrides() -> dict:
    return {
        "Properties": {
            # Replaces the placeholder `iam_role_arn` of .chalice/config.json.
            "Role": {"Fn::GetAtt": [ROLE, "Arn"]},
            "Environment": {
                "Variables": {
                    shared.TABLE_VARIABLE: {"Ref": TABLE},
                    shared.SECRET_VARIABLE: {
                        "Fn::Sub": "{{resolve:secretsmanager:${" + SECRET + "}:SecretString}}"
                    },
                }
            },
        }
    }


def _log_group_overrides() -> dict:
    # Chalice 1.34 names the function `${ApiHandler}` here, a resource that does not exist
    # (it is `APIHandler`); CloudFormation would refuse the template.
    return {"Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${" + FUNCTION + "}"}}}


def _api_overrides() -> dict:
    return {
        "Properties": {
            "DefinitionBody": {shared.GATEWAY_RESPONSES_KEY: shared.gateway_responses()},
        }
    }
