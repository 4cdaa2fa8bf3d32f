"""Permission-aware reads of the catalogue."""

from django.db.models import Case, IntegerField, Prefetch, Q, Value, When
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from treatments.engine import (
    DECIDED,
    DECIDED_FOR_CATEGORY,
    PHOTOTYPE_FLAG,
    CatalogueSnapshot,
    TreatmentFacts,
    coverage_state,
)
from treatments.models import (
    AftercareStep,
    Concern,
    Condition,
    ConcernExclusion,
    ContraindicationRule,
    CoverageDecision,
    Disagreement,
    EvidenceSource,
    Indication,
    PreTreatmentRequirement,
    Treatment,
)

SEVERITY_ORDER = Case(
    When(severity=ContraindicationRule.Severity.ABSOLUTE, then=Value(0)),
    When(severity=ContraindicationRule.Severity.RELATIVE, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def _can_browse(user):
    return user.is_authenticated and user.has_perm("treatments.view_treatment")


def treatment_list(*, user, concern=None, mechanism=None, category=None, depth=None, text=""):
    """Active treatments the user may browse, narrowed by the given filters, by name."""
    if not _can_browse(user):
        return Treatment.objects.none()
    treatments = Treatment.objects.filter(active=True)
    if concern is not None:
        treatments = treatments.filter(indications__concern=concern)
    if mechanism is not None:
        treatments = treatments.filter(mechanisms=mechanism)
    if category is not None:
        treatments = treatments.filter(category=category)
    if depth is not None:
        treatments = treatments.filter(depth=depth)
    if text:
        treatments = treatments.filter(
            Q(name__icontains=text) | Q(aliases__icontains=text) | Q(code__icontains=text)
        )
    return (
        treatments.distinct()
        .select_related("category", "depth")
        .prefetch_related(
            "mechanisms",
            Prefetch("indications",
                     queryset=Indication.objects.select_related("concern").order_by(
                         "strength", "concern__label")),
        )
        .order_by("name")
    )


def treatment_detail(*, user, code):
    """One active treatment with everything its catalogue page shows, or 404."""
    if not _can_browse(user):
        raise Http404
    sources = "sources"
    treatment = (
        Treatment.objects.filter(active=True, code=code)
        .select_related("category", "depth", "consent")
        .prefetch_related(
            "mechanisms",
            "key_sources",
            "fitzpatrick_sources",
            "sessions_sources",
            "downtime_sources",
            "regulatory_sources",
            "minimum_interval_sources",
            "consent__sources",
            Prefetch("disagreements", queryset=Disagreement.objects.prefetch_related(sources)),
            Prefetch("indications", queryset=Indication.objects.select_related("concern")
                     .prefetch_related(sources).order_by("strength", "id")),
            Prefetch("not_indicated", queryset=ConcernExclusion.objects.select_related("concern")
                     .prefetch_related(sources)),
            Prefetch("rules", queryset=ContraindicationRule.objects
                     .select_related("condition", "basis")
                     .prefetch_related(sources, "window_sources")
                     .order_by(SEVERITY_ORDER, "condition__label")),
            Prefetch("requirements", queryset=PreTreatmentRequirement.objects
                     .select_related("requirement")
                     .prefetch_related(sources, "conditions", "concerns")),
            Prefetch("aftercare", queryset=AftercareStep.objects.prefetch_related(sources)),
        )
        .first()
    )
    if treatment is None:
        raise Http404
    treatment.no_rule_decisions = reviewed_no_rule(treatment)
    treatment.consent_text = getattr(treatment, "consent", None)
    return treatment


def reviewed_no_rule(treatment):
    """The decisions that no rule is needed which hold for this treatment (its own, and its
    category's where it has no rule or decision of its own), decided by the engine's
    coverage_state over the rules and decisions read here, so page and engine agree."""
    decisions = list(
        CoverageDecision.objects.filter(Q(treatment=treatment) | Q(category=treatment.category_id))
        .select_related("condition", "basis").prefetch_related("sources")
        .order_by("condition__label", "category")
    )
    category = treatment.category.code
    facts = TreatmentFacts(
        code=treatment.code, name=treatment.name, depth_rank=treatment.depth.rank,
        category=category, rules={rule.condition.code: rule for rule in treatment.rules.all()},
        decided=frozenset(d.condition.code for d in decisions if d.treatment_id))
    catalogue = CatalogueSnapshot(category_decisions={category: frozenset(
        d.condition.code for d in decisions if d.category_id)})

    def holds(decision):
        state = coverage_state(facts, decision.condition.code, catalogue)
        return bool((state == DECIDED and decision.treatment_id)
                    or (state == DECIDED_FOR_CATEGORY and decision.category_id))

    return [decision for decision in decisions if holds(decision)]


def treatment_index(codes):
    """Treatments by code with what a recommendation page shows beside the engine's result
    (category, depth, mechanisms, sessions, downtime), in a constant number of queries."""
    return {
        treatment.code: treatment
        for treatment in Treatment.objects.filter(code__in=list(codes))
        .select_related("category", "depth").prefetch_related("mechanisms")
    }


def sources_by_key(keys):
    return {source.key: source for source in EvidenceSource.objects.filter(key__in=list(keys))}


def catalogue_labels():
    """Display labels for the codes the engine speaks in: conditions, concerns, and the
    flags that come from no condition (the phototype's)."""
    return {
        "conditions": dict(Condition.objects.values_list("code", "label")),
        "concerns": dict(Concern.objects.values_list("code", "label")),
        "flags": {PHOTOTYPE_FLAG: _("Fitzpatrick phototype")},
    }
