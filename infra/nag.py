"""cdk-nag (v3, CDK Validations) acknowledgements, each with the reason it is acceptable here."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations

ACKNOWLEDGED: dict[str, str] = {
    "AwsSolutions-APIG4": "Authorisation is in the API Lambda (JWT, roles, ownership per route) because the "
    "catalog and health routes are public; see SECURITY.md.",
    "AwsSolutions-COG4": "Users are authenticated by the API's own JWTs, not by a Cognito user pool.",
    "AwsSolutions-APIG2": "Requests are validated by the API Lambda with pydantic models (the OpenAPI document is "
    "generated from them); a proxy resource has no API Gateway models to validate against.",
    "AwsSolutions-APIG3": "WAF is an account-level choice of the operator; stage throttling and login throttling "
    "are built in.",
    "AwsSolutions-SMG4": "Rotating the JWT signing secret logs every user out; access tokens live at most 60 "
    "minutes and are revocable. Rotation is an operator runbook step. The credential signing key (an Ed25519 "
    "JWK Secrets Manager cannot generate) is rotated by `lms credentials rotate-key`, which keeps the old "
    "public keys published.",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]": "Only API Gateway's account-level CloudWatch role uses this AWS managed policy, to push execution logs.",
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": "Only CDK's own BucketNotificationsHandler (it turns on EventBridge notifications for the media bucket) "
    "uses the basic execution managed policy.",
    "AwsSolutions-IAM5[Resource::*]": "Only actions without resource-level permissions are granted on '*': "
    "X-Ray tracing (xray:Put*, xray:GetSampling*), the log delivery and resource-policy actions a state "
    "machine needs to log to CloudWatch (as AWS documents), and states:SendTaskSuccess/Failure, where the task "
    "token is the credential.",
    "AwsSolutions-IAM5[Resource::<DataTableFDBAD0F2.Arn>/index/*]": "Access patterns query the table's GSI1 and "
    "GSI2 (see lms/keys.py); the grant is limited to this table's indexes.",
}


def acknowledge(stack: Stack) -> None:
    for rule, reason in ACKNOWLEDGED.items():
        Validations.of(stack).acknowledge(Acknowledgment(id=rule, reason=reason))
