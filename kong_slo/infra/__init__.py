"""Pulumi components that host the collector: ``aws`` (an EC2 host), ``aws_tier`` (an Auto Scaling group behind a
Network Load Balancer) and ``local`` (the local Docker engine).

Import the submodule you need; each pulls in its own cloud SDK, which is slow to import.
"""
