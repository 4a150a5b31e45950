"""What a burn-rate alert says, the same in both Dynatrace flavours: a title the stack's alerting profile matches
by its ``kong-slo <stack>:`` prefix, and a description a person paged at night can act on. Pure."""

from __future__ import annotations

from kong_slo.objectives.burn_rate import BurnRateRule, duration, objective_minutes
from kong_slo.objectives.sli import SloDefinition, slo_name_prefix

TITLE_MAX = 500
DESCRIPTION_MAX = 5000


def _percent(share: float) -> str:
    return f"{share * 100:.3g} %"


def _last(minutes: int) -> str:
    return {1: "the last minute", 60: "the last hour", 1440: "the last day"}.get(minutes,
                                                                                f"the last {duration(minutes)}")


def alert_title(definition: SloDefinition, stack: str, rule: BurnRateRule) -> str:
    """``kong-slo <stack>: <API> <objective> <page|ticket>: error budget burning over <window>``."""
    return (f"{slo_name_prefix(stack)} {definition.api} {definition.objective} {rule.severity}: "
            f"error budget burning over {duration(rule.long_minutes)}")[:TITLE_MAX]


def alert_description(definition: SloDefinition, stack: str, rule: BurnRateRule) -> str:
    """What failed, over which windows, how much budget that is, and where to see the budget left."""
    minutes = objective_minutes(definition.window)
    objective = duration(minutes)
    if rule.long_minutes == minutes and rule.factor == 1:
        pace = (f"Over {_last(rule.long_minutes)}, more requests failed than the {definition.target:g} % target "
                f"allows: the error budget of the {objective} window is used up")
    else:
        speed = "at least as fast as" if rule.factor == 1 else f"at least {rule.factor:g} times as fast as"
        pace = (f"Over {_last(rule.long_minutes)}, the error budget was used {speed} the {definition.target:g} % "
                f"target over {objective} allows ({_percent(rule.budget_share(minutes))} of the budget in "
                f"{duration(rule.long_minutes)}); at this pace a full budget lasts less than "
                f"{duration(max(1, round(minutes / rule.factor)))}")
    return (f"{definition.api} {definition.objective}: {definition.description}. {pace}, and failures go on at "
            f"that pace over {_last(rule.short_minutes)}. Budget left: the SLO \"{definition.name}\" in "
            f"Dynatrace, or `kong-slo status --stack {stack}`.")[:DESCRIPTION_MAX]
