"""What an objective is, apart from how any backend stores it: each API's SLI definitions (``sli``), the
burn-rate rules that alert on them (``burn_rate``) and one objective's status as reported (``status``). Pure;
used by both Dynatrace flavours, the doctor and the commands."""
