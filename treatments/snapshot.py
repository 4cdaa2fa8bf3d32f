"""Reading the catalogue into the engine's plain data (see treatments.engine)."""

from treatments.engine import CatalogueSnapshot, ConditionFacts, PolicyFacts
from treatments.models import Condition, ConflictPolicy


def catalogue_snapshot():
    """The parts of the catalogue the engine reads, in a constant number of queries."""
    conditions = {
        condition.code: ConditionFacts(
            code=condition.code,
            kind=condition.kind,
            implies=tuple(sorted(implied.code for implied in condition.implies.all())),
            label=condition.label,
        )
        for condition in Condition.objects.filter(active=True).prefetch_related("implies")
    }
    policies = tuple(
        PolicyFacts(code=policy.code, title=policy.title, action=policy.action)
        for policy in ConflictPolicy.objects.filter(active=True).order_by("position", "code")
    )
    return CatalogueSnapshot(conditions=conditions, policies=policies)
