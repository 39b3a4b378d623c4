"""The local cloud refuses what AWS refuses: every call is authenticated and authorised as in AWS.

Identities live in moto's own IAM and STS: each task function and the API get a role whose inline
policy is the one CDK synthesises (:mod:`infra.policies`, from the same ``Needs``), and session
credentials from ``AssumeRole``, as Lambda gives a function. moto's access control resolves an
access key to its role or user and collects its policies (``moto.iam.access_control``); this module
adds what moto 5.2.5 lacks for our calls:

* the resource each call is about (moto checks most services against ``*``) and the condition
  context (``s3:prefix`` of a ListBucket), derived from the request as AWS does;
* condition operators (``StringLike``; moto ignores all but ``StringEquals``) and the rule that an
  Allow whose condition does not hold is not a Deny;
* SigV4 verification of header-signed requests and of presigned URLs: signature, expiry and every
  signed header (``Content-Length`` included), checked against the credentials in the URL, so a
  URL is worth exactly the rights of the role that signed it; SigV2 URLs are refused;
* S3's answer to a GET or HEAD of a missing key: 404 only for a caller allowed ``s3:ListBucket`` on
  that key's prefix, 403 otherwise.

A refused call fails as in AWS: S3 answers an XML 403 ``AccessDenied``; JSON services answer 400
``AccessDeniedException`` (Lambda: 403), each naming the caller, the action and the resource.

Three identities are not roles of the catalog: the administrator (``AWS_ACCESS_KEY_ID=local``,
secret ``local``: the bootstrap, the test harness, ``lms seed``, the aws CLI), and moto's Step
Functions engine, which signs every call with the fixed key ``ak``. The engine's calls are checked
against the union of the deployed state machines' policies: moto cannot tell one state machine's
calls from another's, so one workflow invoking another's function would pass here (not in AWS).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from io import BytesIO
from typing import Any
from urllib.parse import parse_qsl, unquote
from xml.sax.saxutils import escape, unescape

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from moto.iam.access_control import (
    CreateAccessKeyFailure,
    IAMPolicyStatement,
    PermissionResult,
    create_access_key,
)
from moto.iam.models import Policy
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.ses.models import ses_backends
from werkzeug.datastructures import EnvironHeaders

from lms.aws import Credentials

ACCOUNT_ID = "123456789012"
PARTITION = "aws"
ADMIN = Credentials("local", "local")
ADMIN_ARN = f"arn:aws:iam::{ACCOUNT_ID}:root"
# moto's Step Functions engine signs every call it makes with these (moto.stepfunctions.parser).
ENGINE = Credentials("ak", "sk")
ENGINE_ARN = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/lms-local-stepfunctions/engine"
ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
# Paths of the local cloud itself, not AWS APIs: fault injection and moto's own control API.
LOCAL_PATHS = ("/_local/", "/moto-api/")
MAX_PRESIGNED_SECONDS = 7 * 24 * 3600
API_CREDENTIAL_VARIABLES = (
    "LMS_LOCAL_API_ACCESS_KEY_ID",
    "LMS_LOCAL_API_SECRET_ACCESS_KEY",
    "LMS_LOCAL_API_SESSION_TOKEN",
)

Response = tuple[int, dict[str, str], bytes]


def local_api_credentials() -> Credentials | None:
    """The API role's session credentials, which the local cloud published for the local API."""
    key, secret, token = (os.environ.get(name) for name in API_CREDENTIAL_VARIABLES)
    return Credentials(key, secret, token) if key and secret else None


def publish_api_credentials(credentials: Credentials) -> None:
    os.environ.update(dict(zip(API_CREDENTIAL_VARIABLES, credentials, strict=True)))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Check:
    """One authorisation AWS makes for a request: an action on a resource, with condition keys."""

    action: str
    resource: str
    context: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Principal:
    arn: str
    secret: str
    session_token: str | None
    policies: tuple[dict[str, Any], ...]

    def allows(self, check: Check) -> bool:
        permitted = False
        for policy in self.policies:
            statements = policy.get("Statement", [])
            for statement in statements if isinstance(statements, list) else [statements]:
                result = _Statement(statement).evaluate(check)
                if result is PermissionResult.DENIED:
                    return False
                permitted = permitted or result is PermissionResult.PERMITTED
        return permitted


class _Statement(IAMPolicyStatement):
    """moto's statement matching (Action/NotAction, Resource wildcards), with AWS's conditions."""

    def evaluate(self, check: Check) -> Any:
        statement = self._statement
        if "NotAction" in statement:
            concerned = not self._check_element_matches("NotAction", check.action)
        else:
            concerned = self._check_element_matches("Action", check.action)
        if not concerned or not self._check_element_matches("Resource", check.resource):
            return PermissionResult.NEUTRAL
        if not _conditions_hold(statement.get("Condition") or {}, check.context):
            return PermissionResult.NEUTRAL  # an Allow (or Deny) whose condition fails does not apply
        return PermissionResult.PERMITTED if statement["Effect"] == "Allow" else PermissionResult.DENIED


def _conditions_hold(conditions: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool:
    for operator, keys in conditions.items():
        for key, expected in keys.items():
            wanted = expected if isinstance(expected, list) else [expected]
            actual = context.get(key)
            if operator in ("StringEquals", "StringLike") and actual is None:
                return False
            if operator == "StringEquals" and actual not in wanted:
                return False
            if operator == "StringLike" and not any(fnmatch.fnmatchcase(str(actual), w) for w in wanted):
                return False
            if operator == "StringNotEquals" and actual in wanted:
                return False
            if operator == "StringNotLike" and any(fnmatch.fnmatchcase(str(actual or ""), w) for w in wanted):
                return False
            if operator not in ("StringEquals", "StringLike", "StringNotEquals", "StringNotLike"):
                return False  # unknown to the local cloud: never grant on a condition it cannot read
    return True


class Refusal(Exception):
    """A request AWS would refuse: (status, error code, message), answered in the service's format."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class _Request:
    method: str
    raw_path: str  # as sent, percent-encoded
    path: str  # decoded
    query: str  # as sent
    headers: EnvironHeaders
    body: bytes | None
    service: str
    region: str
    access_key: str
    session_token: str | None
    presigned: dict[str, str] | None  # the X-Amz-* query parameters of a presigned URL

    @property
    def params(self) -> dict[str, str]:
        return dict(parse_qsl(self.query, keep_blank_values=True))

    def json(self) -> dict[str, Any]:
        try:
            document = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return document if isinstance(document, dict) else {}


class AccessControl:
    """Authenticates and authorises every request the local cloud receives (see the module doc)."""

    def __init__(self, region: str) -> None:
        self.region = region
        self._engine_statements: list[dict[str, Any]] = []
        self._principals: dict[str, Principal] = {}
        self._lock = threading.Lock()

    # ----- identities -----

    def allow_engine(self, statements: Iterable[dict[str, Any]]) -> None:
        """Add a state machine's statements to what the (shared) engine identity may do."""
        with self._lock:
            self._engine_statements.extend(statements)

    def forget_principals(self) -> None:
        """Roles or policies changed: read them from moto's IAM again."""
        with self._lock:
            self._principals.clear()

    def principal(self, access_key: str, session_token: str | None) -> Principal:
        if access_key == ADMIN.access_key_id:
            return Principal(ADMIN_ARN, ADMIN.secret_access_key, None, (ALLOW_ALL,))
        if access_key == ENGINE.access_key_id:
            with self._lock:
                document = {"Version": "2012-10-17", "Statement": list(self._engine_statements)}
            return Principal(ENGINE_ARN, ENGINE.secret_access_key, None, (document,))
        with self._lock:
            cached = self._principals.get(access_key)
        if cached is not None:
            if cached.session_token != session_token:
                raise Refusal(403, "InvalidToken", "The provided token is malformed or otherwise invalid.")
            return cached
        found = self._moto_principal(access_key, session_token)
        with self._lock:
            self._principals[access_key] = found
        return found

    def _moto_principal(self, access_key: str, session_token: str | None) -> Principal:
        headers = {"X-Amz-Security-Token": session_token} if session_token else {}
        try:
            key = create_access_key(ACCOUNT_ID, PARTITION, access_key, headers)
        except CreateAccessKeyFailure as failure:
            if failure.reason == "InvalidToken":
                raise Refusal(
                    403, "InvalidToken", "The provided token is malformed or otherwise invalid."
                ) from None
            raise Refusal(
                403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
            ) from None
        credentials = key.create_credentials()
        policies = tuple(_document(policy) for policy in key.collect_policies())
        return Principal(key.arn, credentials.secret_key, credentials.token, policies)

    # ----- requests -----

    def check(self, environ: dict[str, Any]) -> Response | None:
        """None if AWS would let the request through; else the response AWS would give."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(LOCAL_PATHS):
            return None
        request = self._parse(environ)
        if request is None:
            return _anonymous_refusal(environ)
        try:
            if not request.access_key:
                raise Refusal(
                    400,
                    "InvalidRequest",
                    "The authorization mechanism you have provided is not supported. "
                    "Please use AWS4-HMAC-SHA256.",
                )
            principal = self.principal(request.access_key, request.session_token)
            self._verify_signature(request, principal)
            for check in self._checks(request):
                if not principal.allows(check):
                    raise Refusal(403, "AccessDenied", _denied(principal, check))
            if request.service == "s3":
                self._missing_key(request, principal)
            if request.service in ("iam", "sts"):
                self.forget_principals()
        except Refusal as refusal:
            return _refuse(request, refusal)
        return None

    def _parse(self, environ: dict[str, Any]) -> _Request | None:
        headers = EnvironHeaders(environ)
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        raw_path, _, query = raw_uri.partition("?")
        if not query:
            query = environ.get("QUERY_STRING", "")
        params = dict(parse_qsl(query, keep_blank_values=True))
        authorization = headers.get("Authorization", "")
        presigned = None
        if authorization.startswith("AWS4-HMAC-SHA256"):
            scope = _between(authorization, "Credential=", ",").split("/")
            token = headers.get("X-Amz-Security-Token")
        elif "X-Amz-Credential" in params:
            scope = params["X-Amz-Credential"].split("/")
            token = params.get("X-Amz-Security-Token")
            presigned = {k: v for k, v in params.items() if k.startswith("X-Amz-")}
        elif authorization.startswith("AWS ") or "AWSAccessKeyId" in params:
            # Signature Version 2: buckets created since June 2020 accept only SigV4.
            return _Request(
                "GET", raw_path, raw_path, query, headers, None, "s3", self.region, "", None, None
            )
        else:
            return None
        if len(scope) != 5:
            return None
        access_key, _, region, service, _ = scope
        body = None
        wants_body = service != "s3" or (environ.get("REQUEST_METHOD") == "POST" and "delete" in params)
        if wants_body:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = BytesIO(body)
        return _Request(
            method=environ.get("REQUEST_METHOD", "GET"),
            raw_path=raw_path,
            path=environ.get("PATH_INFO", ""),
            query=query,
            headers=headers,
            body=body,
            service=service,
            region=region,
            access_key=access_key,
            session_token=token,
            presigned=presigned,
        )

    def _verify_signature(self, request: _Request, principal: Principal) -> None:
        credentials = BotoCredentials(request.access_key, principal.secret, request.session_token)
        if request.presigned is not None:
            self._verify_presigned(request, credentials)
            return
        authorization = request.headers.get("Authorization", "")
        signed = _between(authorization, "SignedHeaders=", ",").split(";")
        timestamp = request.headers.get("X-Amz-Date", "")
        auth_class = S3SigV4Auth if request.service == "s3" else SigV4Auth
        auth = auth_class(credentials, request.service, request.region)
        url = request.raw_path + (f"?{request.query}" if request.query else "")
        expected = _signature(auth, request, url, signed, timestamp)
        if expected != _between(authorization, "Signature=", ","):
            raise _signature_mismatch(request)

    def _verify_presigned(self, request: _Request, credentials: BotoCredentials) -> None:
        presigned = request.presigned or {}
        try:
            signed_at = dt.datetime.strptime(presigned["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            lifetime = int(presigned["X-Amz-Expires"])
        except (KeyError, ValueError):
            raise Refusal(
                400, "AuthorizationQueryParametersError", "X-Amz-Date and X-Amz-Expires are required."
            ) from None
        if not 0 < lifetime <= MAX_PRESIGNED_SECONDS:
            raise Refusal(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            )
        if dt.datetime.now(dt.UTC) > signed_at + dt.timedelta(seconds=lifetime):
            raise Refusal(403, "AccessDenied", "Request has expired")
        signed = presigned.get("X-Amz-SignedHeaders", "host").split(";")
        unsigned_query = "&".join(
            pair for pair in request.query.split("&") if not pair.startswith("X-Amz-Signature=")
        )
        auth = S3SigV4QueryAuth(credentials, request.service, request.region, expires=lifetime)
        url = request.raw_path + (f"?{unsigned_query}" if unsigned_query else "")
        expected = _signature(auth, request, url, signed, presigned["X-Amz-Date"])
        if expected != presigned.get("X-Amz-Signature"):
            raise _signature_mismatch(request)

    def _checks(self, request: _Request) -> list[Check]:
        describe = _DESCRIBERS.get(request.service, _generic)
        return describe(self, request)

    def _missing_key(self, request: _Request, principal: Principal) -> None:
        """S3 tells a caller that a key is absent (404) only if it may list the key's prefix."""
        bucket, key = _s3_location(request)
        if not key or request.method not in ("GET", "HEAD") or _object_subresource(request.params):
            return
        try:
            found = s3_backends[ACCOUNT_ID][PARTITION].get_object(bucket, key)
        except MissingBucket:
            return
        if found is not None:
            return
        listing = Check("s3:ListBucket", f"arn:aws:s3:::{bucket}", {"s3:prefix": key})
        if not principal.allows(listing):
            raise Refusal(403, "AccessDenied", _denied(principal, listing))

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{PARTITION}:{service}:{self.region}:{ACCOUNT_ID}:{resource}"


def _document(policy: Any) -> dict[str, Any]:
    if isinstance(policy, Policy):
        version = next(v for v in policy.versions if v.is_default)
        text = version.document
    elif isinstance(policy, str):
        text = policy
    else:
        text = policy["policy_document"]
    document = json.loads(text) if isinstance(text, str) else text
    return dict(document)


def _signature(auth: SigV4Auth, request: _Request, url: str, signed: list[str], timestamp: str) -> str:
    headers = {name: request.headers.get(name, "") for name in signed if name in request.headers}
    aws_request = AWSRequest(method=request.method, url=url, data=request.body or b"", headers=headers)
    aws_request.context["timestamp"] = timestamp
    canonical = auth.canonical_request(aws_request)
    return str(auth.signature(auth.string_to_sign(aws_request, canonical), aws_request))


def _signature_mismatch(request: _Request) -> Refusal:
    if request.service == "s3":
        return Refusal(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. "
            "Check your key and signing method.",
        )
    return Refusal(
        400,
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided.",
    )


def _denied(principal: Principal, check: Check) -> str:
    return (
        f"User: {principal.arn} is not authorized to perform: {check.action} on resource: "
        f"{check.resource} because no identity-based policy allows the {check.action} action"
    )


def _between(text: str, start: str, end: str) -> str:
    return text.partition(start)[2].partition(end)[0].strip()


# ----- what each service's request is about -----


def _s3_location(request: _Request) -> tuple[str, str]:
    host = (request.headers.get("Host") or "").split(":")[0]
    path = unquote(request.raw_path)
    if host.endswith(".localhost") or ".s3." in host:
        return host.split(".")[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


_OBJECT_SUBRESOURCES = {
    "acl": "Acl",
    "tagging": "Tagging",
    "legal-hold": "LegalHold",
    "retention": "Retention",
}


def _object_subresource(params: Mapping[str, str]) -> str:
    return next((name for key, name in _OBJECT_SUBRESOURCES.items() if key in params), "")


def _s3(control: AccessControl, request: _Request) -> list[Check]:
    bucket, key = _s3_location(request)
    params, method = request.params, request.method
    bucket_arn = f"arn:aws:s3:::{bucket}"
    if not bucket:
        return [Check("s3:ListAllMyBuckets", "*")]
    if key:
        resource = f"{bucket_arn}/{key}"
        sub = _object_subresource(params)
        if method in ("GET", "HEAD"):
            action = f"s3:GetObject{sub}" if sub else "s3:GetObject"
            if "uploadId" in params:
                action = "s3:ListMultipartUploadParts"
            return [Check(action, resource)]
        if method in ("PUT", "POST"):
            checks = [Check(f"s3:PutObject{sub}" if sub else "s3:PutObject", resource)]
            source = request.headers.get("x-amz-copy-source")
            if source:
                source_bucket, _, source_key = unquote(source).lstrip("/").partition("/")
                checks.append(
                    Check("s3:GetObject", f"arn:aws:s3:::{source_bucket}/{source_key.split('?')[0]}")
                )
            return checks
        if method == "DELETE":
            action = "s3:AbortMultipartUpload" if "uploadId" in params else "s3:DeleteObject"
            return [Check(f"s3:DeleteObject{sub}" if sub else action, resource)]
        return [Check(f"s3:{method.title()}Object", resource)]
    if method == "GET" and not set(params) - {
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "continuation-token",
        "start-after",
        "encoding-type",
        "fetch-owner",
        "marker",
    }:
        return [Check("s3:ListBucket", bucket_arn, {"s3:prefix": params.get("prefix", "")})]
    if method == "POST" and "delete" in params:
        # DeleteObjects' body: <Delete><Object><Key>k</Key>...; keys are XML-escaped text.
        body = (request.body or b"").decode(errors="replace")
        keys = [unescape(found) for found in re.findall(r"<Key>(.*?)</Key>", body, re.DOTALL)]
        return [Check("s3:DeleteObject", f"{bucket_arn}/{k}") for k in keys]
    # Bucket configuration (creation, notifications, policies, ...): the administrator's business.
    sub = next(iter(params), "")
    return [Check(f"s3:{method.title()}Bucket{sub.title().replace('-', '')}", bucket_arn)]


def _dynamodb(control: AccessControl, request: _Request) -> list[Check]:
    operation = _target(request)
    body = request.json()

    def table(name: str, index: str | None = None) -> str:
        suffix = f"/index/{index}" if index else ""
        return control.arn("dynamodb", f"table/{name}{suffix}")

    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [Check(f"dynamodb:{operation}", table(name)) for name in body.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        names = {
            "Put": "PutItem",
            "Update": "UpdateItem",
            "Delete": "DeleteItem",
            "ConditionCheck": "ConditionCheckItem",
            "Get": "GetItem",
        }
        return [
            Check(f"dynamodb:{names[kind]}", table(spec.get("TableName", "")))
            for item in body.get("TransactItems", [])
            for kind, spec in item.items()
            if kind in names
        ]
    if "TableName" in body:
        return [Check(f"dynamodb:{operation}", table(body["TableName"], body.get("IndexName")))]
    return [Check(f"dynamodb:{operation}", "*")]


def _states(control: AccessControl, request: _Request) -> list[Check]:
    operation = _target(request)
    body = request.json()
    resource = body.get("stateMachineArn") or body.get("executionArn") or "*"
    if operation in ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"):
        resource = "*"
    return [Check(f"states:{operation}", str(resource))]


def _events(control: AccessControl, request: _Request) -> list[Check]:
    operation = _target(request)
    body = request.json()
    if operation == "PutEvents":
        buses = {str(entry.get("EventBusName") or "default") for entry in body.get("Entries", [])}
        return [
            Check(
                "events:PutEvents",
                bus if bus.startswith("arn:") else control.arn("events", f"event-bus/{bus}"),
            )
            for bus in sorted(buses)
        ]
    return [Check(f"events:{operation}", "*")]


def _secretsmanager(control: AccessControl, request: _Request) -> list[Check]:
    operation = _target(request)
    secret = str(request.json().get("SecretId") or "*")
    if secret != "*" and not secret.startswith("arn:"):
        try:
            secret = secretsmanager_backends[ACCOUNT_ID][request.region].secrets[secret].arn
        except KeyError:
            secret = control.arn("secretsmanager", f"secret:{secret}")
    return [Check(f"secretsmanager:{operation}", secret)]


SESV2_SEND_PATH = "/v2/email/outbound-emails"


def _ses(control: AccessControl, request: _Request) -> list[Check]:
    """SESv2 SendEmail is authorised on the sending identity (the address's own identity if it has
    one, else its domain's) and on the configuration set it names, as SES does."""
    if request.method == "POST" and request.path.rstrip("/") == SESV2_SEND_PATH:
        body = request.json()
        address = parseaddr(str(body.get("FromEmailAddress") or ""))[1]
        identities = ses_backends[ACCOUNT_ID][request.region].email_identities
        domain = address.rpartition("@")[2]
        identity = domain if address not in identities and domain in identities else address
        checks = [Check("ses:SendEmail", control.arn("ses", f"identity/{identity}"))]
        if body.get("ConfigurationSetName"):
            name = body["ConfigurationSetName"]
            checks.append(Check("ses:SendEmail", control.arn("ses", f"configuration-set/{name}")))
        return checks
    return [Check(f"ses:{_operation(request)}", "*")]


_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<function>[^/]+)/invocations/?$")


def _lambda(control: AccessControl, request: _Request) -> list[Check]:
    match = _INVOKE.match(request.path)
    if match and request.method == "POST":
        function = unquote(match["function"])
        arn = function if function.startswith("arn:") else control.arn("lambda", f"function:{function}")
        return [Check("lambda:InvokeFunction", arn)]
    return [Check("lambda:*", "*")]


def _generic(control: AccessControl, request: _Request) -> list[Check]:
    if request.service == "sts" and _operation(request) == "GetCallerIdentity":
        return []  # always allowed, as in AWS
    return [Check(f"{request.service}:{_operation(request)}", "*")]


def _target(request: _Request) -> str:
    return str(request.headers.get("X-Amz-Target", "")).rpartition(".")[2]


def _operation(request: _Request) -> str:
    target = _target(request)
    if target:
        return target
    form = dict(parse_qsl((request.body or b"").decode(errors="replace")))
    return form.get("Action") or request.params.get("Action") or "Unknown"


_DESCRIBERS: dict[str, Callable[[AccessControl, _Request], list[Check]]] = {
    "s3": _s3,
    "dynamodb": _dynamodb,
    "states": _states,
    "events": _events,
    "secretsmanager": _secretsmanager,
    "lambda": _lambda,
    "ses": _ses,
}


# ----- answers in each service's format -----


def _refuse(request: _Request, refusal: Refusal) -> Response:
    request_id = uuid.uuid4().hex.upper()[:16]
    if request.service == "s3":
        if request.method == "HEAD":
            return refusal.status, {"x-amz-request-id": request_id}, b""
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{refusal.code}</Code><Message>{escape(refusal.message)}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        return refusal.status, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body
    if request.service in ("iam", "sts"):
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{refusal.code}</Code>"
            f"<Message>{escape(refusal.message)}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        ).encode()
        return 403, {"Content-Type": "text/xml"}, body
    code = {
        "AccessDenied": "AccessDeniedException",
        "InvalidAccessKeyId": "UnrecognizedClientException",
        "InvalidToken": "UnrecognizedClientException",
    }.get(refusal.code, refusal.code)
    if request.service == "lambda":
        headers = {
            "Content-Type": "application/json",
            "X-Amzn-ErrorType": code,
            "X-Amzn-RequestId": request_id,
        }
        status = 403 if code in ("AccessDeniedException", "InvalidSignatureException") else refusal.status
        return status, headers, json.dumps({"Type": "User", "Message": refusal.message}).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": request_id}
    return (
        400,
        headers,
        json.dumps({"__type": code, "message": refusal.message, "Message": refusal.message}).encode(),
    )


def _anonymous_refusal(environ: dict[str, Any]) -> Response:
    """An unsigned request: S3 (the only service here that could serve one) refuses it, as a bucket
    that blocks public access does; any other service asks for authentication."""
    headers = EnvironHeaders(environ)
    if headers.get("X-Amz-Target") or environ.get("PATH_INFO", "").startswith("/2015-03-31/"):
        missing = {"__type": "MissingAuthenticationTokenException", "message": "Missing Authentication Token"}
        return 403, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(missing).encode()
    if environ.get("REQUEST_METHOD") == "HEAD":
        return 403, {}, b""
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
        b"<Message>Access Denied</Message></Error>"
    )
    return 403, {"Content-Type": "application/xml"}, body
