"""Email in AWS: the SES sender identity, its configuration set and the unsubscribe-link key.

The sender domain (context ``mailDomain``) is an SES domain identity with Easy DKIM: after the first
deploy the operator publishes its DKIM CNAME records in DNS (the identity verifies itself then) and,
for a new account, requests SES production access (the sandbox sends only to verified addresses).
The configuration set suppresses addresses that bounced or complained. Functions whose ``Needs``
declare ``mail`` get ``ses:SendEmail`` on this identity and configuration set only
(:func:`infra.policies.mail_statements`), and read the signing key; nothing else may send.
"""

from __future__ import annotations

from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ses as ses
from constructs import Construct


class Mail(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, domain: str, sender: str, public_url: str
    ) -> None:
        super().__init__(scope, construct_id)
        self.domain = domain
        self.sender = sender  # LMS_MAIL_FROM, e.g. "LMS <no-reply@example.com>"
        self.public_url = public_url  # the base of unsubscribe links (the API's public URL)
        self.identity = ses.EmailIdentity(self, "SenderIdentity", identity=ses.Identity.domain(domain))
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
            reputation_metrics=True,
            tls_policy=ses.ConfigurationSetTlsPolicy.REQUIRE,
        )
        self.signing_secret = secretsmanager.Secret(
            self,
            "UnsubscribeSigningSecret",
            description="HMAC key that signs the one-click unsubscribe links of LMS email",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
