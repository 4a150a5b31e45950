"""A stack with hundreds of dynamic resources (plugins, SLOs, alerts) declares them all."""

from __future__ import annotations

import pickle

from kong_slo.dynamic_resource import reset_pickler
from tests.program.mocks import aws_config, run_program

DYNAMIC = "pulumi-python:dynamic/"


def test_program_declares_five_hundred_apis_worth_of_dynamic_resources() -> None:
    apis = [{"name": f"api-{index}"} for index in range(250)]
    config = aws_config(dynatrace={"environmentUrl": "https://abc12345.live.dynatrace.com",
                                   "apiToken": {"secure": "x"}, "alerting": {"emails": ["sre@example.com"]}},
                        apis=apis)
    run = run_program(config, stack="many")
    dynamic = [resource for resource in run.resources if resource.type.startswith(DYNAMIC)]
    plugins = [resource for resource in dynamic if resource.type.endswith("kong:OpenTelemetryPlugin")]
    slos = [resource for resource in dynamic if resource.type.endswith("dynatrace:ServiceLevelObjective")]
    assert len(plugins) == 250 and len(slos) == 500
    assert len(dynamic) > 1000


def test_reset_puts_the_original_method_back_after_the_sdk_wrapped_it() -> None:
    unsorted = pickle._Pickler._batch_setitems

    def wrapped(self, items):  # what the SDK does on every declaration
        unsorted(self, sorted(items))

    pickle._Pickler._batch_setitems = wrapped
    reset_pickler()
    assert pickle._Pickler._batch_setitems is not wrapped
    assert pickle._Pickler._batch_setitems.__qualname__ == "_Pickler._batch_setitems"
