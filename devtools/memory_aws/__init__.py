"""An in-memory DynamoDB (with its stream) and SQS for make run, shaped like boto3 clients."""
