"""Where the product runs: the CDK app for AWS (``infra.app``) and the local cloud (``infra.local``)."""
