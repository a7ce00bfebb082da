"""Pure rules of the library's web services.

Every module here takes facts and ``now`` and answers with a decision or raises
:class:`policies.errors.RuleViolation`. Nothing here touches the database, the network or
the clock of the machine, so each rule is tested with a table of cases.
"""
