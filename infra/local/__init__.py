"""The embedded local cloud: moto + a local Lambda runtime behind one port, and the local API Gateway."""
