"""``kong-slo doctor``: checks a deployed stack link by link (Kong, its plugins, the collector, Dynatrace) and
says, for each problem, what is wrong and the one thing to do. Every check only reads."""
