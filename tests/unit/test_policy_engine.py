"""The decision engine over the whole matrix: total, deterministic, monotone; approval for the
information is never approval for a use; red flags are red whatever the task; a red card says
what made it red and never that the use is low risk."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.policy import (
    FLAG_RULES,
    NO_DECISION,
    RULES,
    UNSURE,
    Answers,
    Assessment,
    NextStep,
    Policy,
    PolicyError,
    ToolClass,
    Verdict,
    all_answers,
    assess,
    parse_policy,
)
from content import read_yaml

POLICY = parse_policy(read_yaml("policy.yaml"))
TASKS = [t.id for t in POLICY.tasks]
TOOLS = [t.id for t in POLICY.tools]
CATEGORIES = list(POLICY.category_answers)
USES = [u.id for u in POLICY.uses]
HIGH_RISK_USES = [u.id for u in POLICY.uses if u.high_risk]
FLAGS = list(POLICY.red_flags)
REFERENCE = "DPIA og FRIA for vedtaksstøtte i hjemmetjenesten, sak 2026/1234"


def _policy_where_case_system_is_assessed_for(use: str) -> Policy:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    for tool in raw["tools"]:
        if tool["id"] == "case_system_ai":
            tool["assessed_for"] = [{"use": use, "reference": REFERENCE}]
    return parse_policy(raw)


ASSESSED = _policy_where_case_system_is_assessed_for("services")


_MATRICES: dict[int, tuple[tuple[Answers, Assessment], ...]] = {}


def _matrix(policy: Policy) -> tuple[tuple[Answers, Assessment], ...]:
    """Every combination and its assessment, worked out once per policy for all tests."""
    if id(policy) not in _MATRICES:
        _MATRICES[id(policy)] = tuple((a, assess(policy, a)) for a in all_answers(policy))
    return _MATRICES[id(policy)]


def test_every_combination_gets_one_verdict_and_reasons_with_article_level_sources() -> None:
    matrix = _matrix(POLICY)
    assert len(matrix) == (
        len(TASKS) * len(TOOLS) * len(CATEGORIES) * len(USES) * 2 * (len(FLAGS) + 1)
    )
    for answers, result in matrix:
        assert result.reasons, answers
        assert result.verdict == max(r.verdict for r in result.reasons)
        for reason in result.reasons:
            assert reason.rule in RULES
            assert reason.sources
            assert set(reason.sources) <= set(POLICY.sources)
            assert "gdpr" not in reason.sources, "a reason cites the article, not the whole act"
            assert "forvaltningsloven" not in reason.sources
        assert result.next_steps, answers
        assert set(result.vettregler) <= set(range(1, 11))
        if result.verdict is not Verdict.RED:
            assert "condition.check_answers" in result.conditions


def test_no_red_card_lists_a_low_risk_reason_and_every_red_names_what_made_it_red() -> None:
    for answers, result in _matrix(POLICY):
        if result.verdict is not Verdict.RED:
            continue
        assert all(r.verdict is not Verdict.GREEN for r in result.reasons), answers
        assert "minimal_risk" not in {r.rule for r in result.reasons}
        assert result.reasons[0].verdict is Verdict.RED, "the deciding rule comes first"
        assert NextStep.GO_AHEAD not in result.next_steps


@pytest.mark.parametrize("policy", [POLICY, ASSESSED], ids=["shipped", "one_tool_assessed"])
def test_an_approval_for_information_never_approves_a_high_risk_use(policy: Policy) -> None:
    for answers, result in _matrix(policy):
        if answers.decision not in HIGH_RISK_USES:
            continue
        assessed = answers.decision in policy.tool(answers.tool).assessed_for
        if not assessed:
            assert result.verdict is Verdict.RED, answers
            assert "high_risk_use" in {r.rule for r in result.reasons}
            assert NextStep.IMPACT_ASSESSMENT in result.next_steps
        else:
            assert result.verdict is not Verdict.GREEN, answers
            assert "high_risk_use_assessed" in {r.rule for r in result.reasons}


def test_a_tool_assessed_for_a_use_gives_yellow_with_a_human_deciding_and_the_reference() -> None:
    answers = Answers("summarise", "case_system_ai", "confidential", "services")
    assert assess(POLICY, answers).verdict is Verdict.RED
    result = assess(ASSESSED, answers)
    assert result.verdict is Verdict.YELLOW
    assert "condition.human_decides" in result.conditions
    assert "condition.assessed_use" in result.conditions
    assert result.assessment_reference == REFERENCE
    assert NextStep.FOLLOW_ASSESSMENT in result.next_steps
    other_use = replace(answers, decision="employment")
    assert assess(ASSESSED, other_use).verdict is Verdict.RED, "assessed for one use only"


@pytest.mark.parametrize("flag", FLAGS)
def test_each_red_flag_is_red_in_every_tool_whatever_the_task(flag: str) -> None:
    for answers, result in _matrix(POLICY):
        if flag in answers.flags:
            assert result.verdict is Verdict.RED, answers
            assert FLAG_RULES[flag] in {r.rule for r in result.reasons}


def test_a_prohibited_practice_is_red_in_every_tool() -> None:
    for answers, result in _matrix(POLICY):
        if "biometrics" in answers.flags or answers.task == "monitor_people":
            assert result.verdict is Verdict.RED, answers
            assert NextStep.DO_NOT_USE in result.next_steps


def test_a_decision_about_people_points_to_the_case_workers_own_assessment_first() -> None:
    result = assess(
        POLICY, Answers("decide_individual", "case_system_ai", "confidential", "services")
    )
    assert result.verdict is Verdict.RED
    assert result.reasons[0].rule == "high_risk_use"
    assert result.next_steps[0] is NextStep.OWN_ASSESSMENT
    assert NextStep.REMOVE_PERSONAL_DATA not in result.next_steps
    assert result.alternatives == (), "no tool is offered for a use none is assessed for"


def test_unsure_information_counts_as_restricted_in_every_tool() -> None:
    for tool in TOOLS:
        for task in TASKS:
            unsure = assess(POLICY, Answers(task, tool, UNSURE))
            restricted = assess(POLICY, Answers(task, tool, POLICY.categories[1]))
            assert unsure.verdict == max(restricted.verdict, Verdict.YELLOW), (task, tool)
            assert NextStep.READ_STORAGE_GUIDE in unsure.next_steps
    assert assess(POLICY, Answers("write", "copilot_chat", UNSURE)).verdict is Verdict.RED
    assert assess(POLICY, Answers("write", "chatgpt", UNSURE)).verdict is Verdict.RED


def test_fortrolig_in_the_case_system_is_yellow_with_minimisation_and_the_dpo() -> None:
    result = assess(POLICY, Answers("summarise", "case_system_ai", "confidential"))
    assert result.verdict is Verdict.YELLOW
    assert NextStep.CONTACT_PRIVACY_OFFICER in result.next_steps
    assert "condition.minimise" in result.conditions, "minimisation is a condition of the yes"


def test_dont_know_which_copilot_is_treated_as_the_less_trusted_one() -> None:
    for answers, result in _matrix(POLICY):
        if answers.tool == "copilot_unsure":
            as_chat = assess(POLICY, replace(answers, tool="copilot_chat"))
            assert result.verdict == as_chat.verdict, answers


def test_a_blocked_use_comes_before_the_data_and_offers_no_data_remedy() -> None:
    for answers, result in _matrix(POLICY):
        rules = [r.rule for r in result.reasons]
        if "high_risk_use" in rules and "personal_data_open_tool" in rules:
            assert rules.index("high_risk_use") < rules.index("personal_data_open_tool")
            assert NextStep.REMOVE_PERSONAL_DATA not in result.next_steps, answers
            assert result.alternatives == (), answers


def test_personal_data_in_an_open_tool_is_red_and_points_to_the_text_check() -> None:
    result = assess(POLICY, Answers("summarise", "chatgpt", "restricted"))
    assert result.verdict is Verdict.RED
    assert result.reasons[0].rule == "personal_data_open_tool"
    assert "gdpr_ch5" in result.reasons[0].sources
    assert result.next_steps[0] is NextStep.REMOVE_PERSONAL_DATA
    assert NextStep.REPORT_BREACH in result.next_steps
    assert result.alternatives == ("m365_copilot", "case_system_ai")


def test_open_information_in_an_approved_tool_is_green() -> None:
    result = assess(POLICY, Answers("write", "copilot_chat", "open"))
    assert result.verdict is Verdict.GREEN
    assert {r.rule for r in result.reasons} == {"open_info", "minimal_risk"}
    assert result.next_steps == (NextStep.GO_AHEAD,)


def test_publishing_needs_disclosure_unless_someone_takes_editorial_responsibility() -> None:
    result = assess(POLICY, Answers("write", "copilot_chat", "open", published=True))
    assert result.verdict is Verdict.YELLOW
    assert NextStep.LABEL_AI_CONTENT in result.next_steps
    assert "condition.disclose_ai" in result.conditions


@given(
    task=st.sampled_from(TASKS),
    tool=st.sampled_from(TOOLS),
    use=st.sampled_from(USES),
    published=st.booleans(),
    flags=st.frozensets(st.sampled_from(FLAGS)),
    pair=st.tuples(st.integers(0, 3), st.integers(0, 3)),
)
def test_a_more_sensitive_category_never_gives_a_more_permissive_verdict(
    task: str, tool: str, use: str, published: bool, flags: frozenset[str], pair: tuple[int, int]
) -> None:
    low, high = sorted(pair)
    order = POLICY.categories
    less = assess(POLICY, Answers(task, tool, order[low], use, published, flags))
    more = assess(POLICY, Answers(task, tool, order[high], use, published, flags))
    assert more.verdict >= less.verdict


@given(
    task=st.sampled_from(TASKS),
    tool=st.sampled_from(TOOLS),
    category=st.sampled_from(CATEGORIES),
    use=st.sampled_from(USES),
    flags=st.frozensets(st.sampled_from(FLAGS)),
    extra=st.sampled_from(FLAGS),
)
def test_a_red_flag_or_publishing_never_makes_a_verdict_milder(
    task: str, tool: str, category: str, use: str, flags: frozenset[str], extra: str
) -> None:
    base = assess(POLICY, Answers(task, tool, category, use, False, flags))
    assert assess(POLICY, Answers(task, tool, category, use, False, flags | {extra})).verdict >= (
        base.verdict
    )
    assert assess(POLICY, Answers(task, tool, category, use, True, flags)).verdict >= base.verdict


UNAPPROVED = [t.id for t in POLICY.tools if not t.sanctioned]
APPROVED = [t.id for t in POLICY.tools if t.sanctioned]


@given(
    task=st.sampled_from(TASKS),
    category=st.sampled_from(CATEGORIES),
    use=st.sampled_from(USES),
    published=st.booleans(),
    unapproved=st.sampled_from(UNAPPROVED),
    approved=st.sampled_from(APPROVED),
)
def test_an_unapproved_tool_never_beats_an_approved_one(
    task: str, category: str, use: str, published: bool, unapproved: str, approved: str
) -> None:
    with_unapproved = assess(POLICY, Answers(task, unapproved, category, use, published))
    with_approved = assess(POLICY, Answers(task, approved, category, use, published))
    assert with_unapproved.verdict >= with_approved.verdict


def test_the_engine_is_deterministic() -> None:
    for answers, result in _matrix(POLICY)[::97]:
        assert assess(POLICY, answers) == result


def test_changing_approvals_in_content_changes_the_verdict() -> None:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    for tool in raw["tools"]:
        if tool["id"] == "copilot_chat":
            tool["approved_for"] = ["open", "restricted"]
    edited = parse_policy(raw)
    answers = Answers("summarise", "copilot_chat", "restricted", NO_DECISION)
    assert assess(POLICY, answers).verdict is Verdict.RED
    assert assess(edited, answers).verdict is Verdict.GREEN


def _with_tool_change(**change: object) -> object:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    [approved] = [tool for tool in raw["tools"] if tool["id"] == "copilot_chat"]
    approved.update(change)
    return raw


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"approved_for": ["restricted"]}, "least sensitive upwards"),
        ({"approved_for": ["secret"]}, "unknown category 'secret'"),
        ({"class": "magic"}, "class must be one of"),
        ({"approved_for": []}, "needs approved_for"),
        ({"assessed_for": [{"use": "write"}]}, "need 'use' and 'reference'"),
        ({"assessed_for": [{"use": "none", "reference": "x"}]}, "not a high-risk use"),
        ({"trust_as": "nothing"}, "trust_as must name another listed tool"),
    ],
)
def test_inconsistent_policy_content_is_a_clear_error(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(_with_tool_change(**change))


def test_an_unknown_red_flag_in_content_is_a_clear_error() -> None:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    raw["red_flags"] = [*raw["red_flags"], "astrology"]
    with pytest.raises(PolicyError, match="red flag 'astrology'"):
        parse_policy(raw)


def test_every_tool_class_is_represented_in_the_shipped_policy() -> None:
    assert {t.tool_class for t in POLICY.tools} == set(ToolClass)
