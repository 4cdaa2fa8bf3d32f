"""Reading the catalogue into the engine's plain data (see treatments.engine)."""

from django.db.models import Max, Prefetch

from treatments.catalogue_state import catalogue_token
from treatments.engine import (
    CatalogueSnapshot,
    ConditionFacts,
    DatedQuestionFacts,
    PolicyFacts,
    RequirementFacts,
    RuleFacts,
    StepContraindicationFacts,
    StepFacts,
    TreatmentFacts,
)
from treatments.models import (
    CatalogueChange,
    Concern,
    Condition,
    ConditionWindow,
    ConflictPolicy,
    ContraindicationRule,
    CoverageDecision,
    DatedQuestion,
    PreTreatmentRequirement,
    Requirement,
    RequirementContraindication,
    Treatment,
)


def catalogue_version():
    """A number that changes whenever the catalogue does (its latest change record)."""
    return CatalogueChange.objects.aggregate(latest=Max("id"))["latest"] or 0


def treatment_facts(treatment):
    """One treatment (with its parts prefetched) as the engine reads it."""
    return TreatmentFacts(
        code=treatment.code,
        name=treatment.name,
        depth_rank=treatment.depth.rank,
        depth=treatment.depth.code,
        category=treatment.category.code,
        mechanisms=tuple(m.code for m in treatment.mechanisms.all()),
        indications=tuple((i.concern.code, i.strength, i.caution)
                          for i in treatment.indications.all()),
        not_indicated=tuple((n.concern.code, n.reason) for n in treatment.not_indicated.all()),
        rules={
            rule.condition.code: RuleFacts(
                condition=rule.condition.code, severity=rule.severity, rationale=rule.rationale,
                basis=rule.basis.code if rule.basis else "", confidence=rule.confidence,
                sources=tuple(source.key for source in rule.sources.all()), scope=rule.scope,
                contraindicated_by=tuple(source.key for source in rule.contraindicated_by.all()),
                disagreement=rule.disagreement.code if rule.disagreement else "",
                window=rule.window,
                window_sources=tuple(source.key for source in rule.window_sources.all()),
            )
            for rule in treatment.rules.all() if rule.condition.active
        },
        requirements=tuple(
            RequirementFacts(
                code=step.requirement.code, label=step.requirement.label, strength=step.strength,
                timing=step.timing, applies_to_all=step.applies_to_all,
                conditions=frozenset(c.code for c in step.conditions.all()),
                concerns=frozenset(c.code for c in step.concerns.all()),
                phototype_from=step.phototype_from, phototype_to=step.phototype_to,
                areas=frozenset(step.treatment_areas or ()),
                key=str(step.pk),
            )
            for step in treatment.requirements.all()
        ),
        suitable=frozenset(treatment.fitzpatrick_suitable or ()),
        caution=frozenset(treatment.fitzpatrick_caution or ()),
        excluded=frozenset(treatment.fitzpatrick_excluded or ()),
        pih_risk=dict(treatment.pih_risk or {}),
        referral=treatment.referral,
        decided=frozenset(decision.condition.code
                          for decision in treatment.coverage_decisions.all()
                          if decision.condition.active),
        minimum_interval=treatment.minimum_interval,
    )


def active_treatments():
    return (
        Treatment.objects.filter(active=True)
        .select_related("depth", "category")
        .prefetch_related(
            "mechanisms",
            "indications__concern",
            "not_indicated__concern",
            Prefetch("rules", queryset=ContraindicationRule.objects
                     .select_related("condition", "basis", "disagreement")
                     .prefetch_related("sources", "contraindicated_by", "window_sources")),
            Prefetch("requirements", queryset=PreTreatmentRequirement.objects
                     .select_related("requirement").prefetch_related("conditions", "concerns")),
            Prefetch("coverage_decisions",
                     queryset=CoverageDecision.objects.select_related("condition")),
        )
        .order_by("code")
    )


_cached = {"token": None, "snapshot": None}


def catalogue_snapshot():
    """The catalogue as the engine reads it: rebuilt when the catalogue's token has moved
    (one query to check), else the copy this process already holds."""
    token = catalogue_token()
    if token is not None and token == _cached["token"]:
        return _cached["snapshot"]
    snapshot = catalogue_snapshot_build()
    _cached.update(token=token, snapshot=snapshot)
    return snapshot


def catalogue_snapshot_build():
    """The catalogue as the engine reads it, in a constant number of queries."""
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
    return CatalogueSnapshot(
        conditions=conditions,
        policies=policies,
        treatments=tuple(treatment_facts(t) for t in active_treatments()),
        concerns=frozenset(Concern.objects.filter(active=True).values_list("code", flat=True)),
        version=catalogue_version(),
        category_decisions=category_decisions(),
        steps=step_facts(),
        dated_questions=dated_question_facts(),
    )


def dated_question_facts():
    """Every active dated question with its windows, as the engine derives conditions."""
    return {
        question.code: DatedQuestionFacts(
            code=question.code,
            ongoing_condition=(question.ongoing_condition.code
                               if question.ongoing_condition else ""),
            windows=tuple((w.condition.code, w.length, w.unit) for w in question.windows.all()
                          if w.condition.active),
        )
        for question in DatedQuestion.objects.filter(active=True)
        .select_related("ongoing_condition")
        .prefetch_related(Prefetch("windows",
                                   queryset=ConditionWindow.objects.select_related("condition")))
    }


def category_decisions():
    """Category code -> the conditions reviewed as needing no rule for any of its
    treatments."""
    decided = {}
    rows = (CoverageDecision.objects.filter(category__isnull=False, condition__active=True)
            .values_list("category__code", "condition__code"))
    for category, condition in rows:
        decided.setdefault(category, set()).add(condition)
    return {category: frozenset(codes) for category, codes in decided.items()}


def step_facts():
    """Every pre-treatment step with the conditions it must not be given in."""
    return {
        step.code: StepFacts(
            code=step.code, label=step.label, kind=step.kind, safety_note=step.safety_note,
            contraindications=tuple(
                StepContraindicationFacts(
                    condition=item.condition.code, rationale=item.rationale,
                    alternative=item.alternative.code if item.alternative else "",
                    basis=item.basis.code, confidence=item.confidence,
                    sources=tuple(source.key for source in item.sources.all()),
                )
                for item in step.contraindications.all() if item.condition.active
            ),
        )
        for step in Requirement.objects.prefetch_related(
            Prefetch("contraindications", queryset=RequirementContraindication.objects
                     .select_related("condition", "alternative", "basis")
                     .prefetch_related("sources")))
    }
