"""A local API Gateway: each HTTP request becomes a REST API proxy event for ``api.app.handler``.

The very handler that runs in Lambda serves the local API, so local behaviour is AWS behaviour: the
ops console (``/console``) included. ``requestContext.domainName`` is the address the server is bound
to, as API Gateway gives its own domain name there.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request

from infra.local.iam import local_api_credentials
from infra.local.lambda_runtime import LambdaContext
from infra.local.usage import METER, Usage
from lms import aws

_TEXT_TYPES = ("application/json", "text/", "application/x-www-form-urlencoded")


def proxy_event(request: Request, body: bytes, domain_name: str = "") -> dict[str, Any]:
    """The API Gateway REST (v1) proxy event for one request."""
    headers = {k: v for k, v in request.headers.items()}
    multi_headers = {k: request.headers.getlist(k) for k in headers}
    query = {k: v for k, v in request.args.items()} or None
    multi_query = {k: request.args.getlist(k) for k in request.args} or None
    content_type = (request.content_type or "").lower()  # media types are case-insensitive
    is_text = any(content_type.startswith(t) for t in _TEXT_TYPES) if content_type else True
    try:
        text = body.decode() if is_text else None
    except UnicodeDecodeError:
        text = None
    now = time.time()
    return {
        "resource": "/{proxy+}",
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": {"proxy": request.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": request.method,
            "path": request.path,
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(now * 1000),
            "identity": {
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.user_agent.string,
            },
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain_name or request.host,
        },
        "body": (text if text is not None else base64.b64encode(body).decode()) if body else None,
        "isBase64Encoded": bool(body) and text is None,
    }


class ApiGatewayApp:
    """WSGI adapter: request -> proxy event -> handler -> response."""

    def __init__(
        self,
        max_body_bytes: int = 10 * 1024 * 1024,
        access_log: bool = False,
        domain_name: str = "",
        usage: Usage | None = None,
    ) -> None:
        self._max_body = max_body_bytes  # API Gateway's own hard limit (10 MB)
        self._access_log = access_log
        self._usage = usage  # the API's requests and handler time, for the cost model
        self.domain_name = domain_name  # host:port the server is bound to
        # One request at a time, like one Lambda execution environment: Powertools' resolver keeps
        # the current event and the matched route in class and instance state shared by every
        # request of the process, so two requests handled at once would see each other's (a caller
        # authenticated with another request's token, or a 500 when one clears the other's route).
        self._environment = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        from api.app import handler  # imported on first request, like a Lambda cold start

        request = Request(environ)
        length = request.content_length or 0
        if length > self._max_body:
            start_response("413 Request Entity Too Large", [("Content-Type", "application/json")])
            return [b'{"message": "Request Too Long"}']
        event = proxy_event(
            request,
            request.get_data() if length or request.headers.get("Transfer-Encoding") else b"",
            self.domain_name,
        )
        context = LambdaContext(
            function_name="lms-api",
            invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:lms-api",
            aws_request_id=event["requestContext"]["requestId"],
            deadline=time.monotonic() + 29,
        )
        started = time.perf_counter()
        # The API's calls are signed with the API role's credentials, as in its Lambda (infra.local.iam).
        with self._environment, aws.acting_as(local_api_credentials()):
            result = handler(event, context)  # duck-typed like a Lambda context
        elapsed_ms = (time.perf_counter() - started) * 1000
        if self._usage is not None:
            self._usage.api_request(elapsed_ms)
        if self._access_log:
            target = request.full_path.rstrip("?")
            print(f"{request.method} {target} -> {result['statusCode']} ({elapsed_ms:.0f} ms)", flush=True)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        headers: list[tuple[str, str]] = list((result.get("headers") or {}).items())
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((name, value) for value in values)
        status = int(result["statusCode"])
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [payload]


class LocalApi:
    def __init__(
        self, host: str = "127.0.0.1", port: int = 3000, access_log: bool = False, usage: Usage | None = None
    ) -> None:
        self.host, self.port, self.access_log = host, port, access_log
        self.usage = METER if usage is None else usage
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalApi:
        gateway = ApiGatewayApp(access_log=self.access_log, usage=self.usage)
        self._server = make_server(self.host, self.port, gateway, threaded=True)
        self.port = self._server.server_port
        gateway.domain_name = _host_and_port(self.host, self.port)
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def _host_and_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
