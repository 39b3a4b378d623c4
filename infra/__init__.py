"""Where the product runs: the CDK app for AWS (``infra.app``) and the embedded local cloud (``infra.local``)."""
