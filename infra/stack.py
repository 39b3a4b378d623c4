"""The LMS stack: composes one construct per capability."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.api import Api
from infra.bundling import lambda_code
from infra.data import Data


class LmsStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, cors_origins: list[str], **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        code = lambda_code()
        self.data = Data(self, "Data")
        self.api = Api(self, "Api", data=self.data, code=code, cors_origins=cors_origins)
        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "TableName", value=self.data.table.table_name)
        CfnOutput(self, "BucketName", value=self.data.bucket.bucket_name)
