"""The decision engine: total, deterministic, monotone, and never green for risky uses."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.policy import (
    RULES,
    UNSURE,
    Answers,
    Assessment,
    NextStep,
    Policy,
    PolicyError,
    RiskLevel,
    ToolClass,
    Verdict,
    assess,
    parse_policy,
)
from content import read_yaml

POLICY = parse_policy(read_yaml("policy.yaml"))
TASKS = [t.id for t in POLICY.tasks]
TOOLS = [t.id for t in POLICY.tools]
CATEGORIES = list(POLICY.category_answers)


def all_answers(policy: Policy = POLICY) -> list[Answers]:
    return [
        Answers(task=task, tool=tool, category=category, affects_people=people, published=pub)
        for task, tool, category, people, pub in itertools.product(
            [t.id for t in policy.tasks],
            [t.id for t in policy.tools],
            policy.category_answers,
            (False, True),
            (False, True),
        )
    ]


def test_every_combination_gets_one_verdict_and_reasons_with_sources() -> None:
    combos = all_answers()
    assert len(combos) == len(TASKS) * len(TOOLS) * len(CATEGORIES) * 4
    for answers in combos:
        result = assess(POLICY, answers)
        assert isinstance(result, Assessment)
        assert result.verdict in set(Verdict)
        assert result.reasons, answers
        assert result.verdict == max(r.verdict for r in result.reasons)
        for reason in result.reasons:
            assert reason.rule in RULES
            assert reason.sources
            assert set(reason.sources) <= set(POLICY.sources)
            assert reason.text_key == f"rule.{reason.rule}"
        assert result.next_steps, answers
        assert set(result.vettregler) <= set(range(1, 11))
        if result.verdict is not Verdict.RED:
            assert "condition.check_answers" in result.conditions


def test_the_engine_is_deterministic() -> None:
    for answers in all_answers()[::7]:
        assert assess(POLICY, answers) == assess(POLICY, answers)


ORDER = list(POLICY.categories)


@given(
    task=st.sampled_from(TASKS),
    tool=st.sampled_from(TOOLS),
    people=st.booleans(),
    published=st.booleans(),
    pair=st.tuples(st.integers(0, len(ORDER) - 1), st.integers(0, len(ORDER) - 1)),
)
def test_a_more_sensitive_category_never_gives_a_more_permissive_verdict(
    task: str, tool: str, people: bool, published: bool, pair: tuple[int, int]
) -> None:
    low, high = sorted(pair)
    less = assess(POLICY, Answers(task, tool, ORDER[low], people, published))
    more = assess(POLICY, Answers(task, tool, ORDER[high], people, published))
    assert more.verdict >= less.verdict


UNAPPROVED = [t.id for t in POLICY.tools if not t.sanctioned]
APPROVED = [t.id for t in POLICY.tools if t.sanctioned]


@given(
    task=st.sampled_from(TASKS),
    category=st.sampled_from(CATEGORIES),
    people=st.booleans(),
    published=st.booleans(),
    unapproved=st.sampled_from(UNAPPROVED),
    approved=st.sampled_from(APPROVED),
)
def test_an_unapproved_tool_never_beats_an_approved_one(
    task: str, category: str, people: bool, published: bool, unapproved: str, approved: str
) -> None:
    with_unapproved = assess(POLICY, Answers(task, unapproved, category, people, published))
    with_approved = assess(POLICY, Answers(task, approved, category, people, published))
    assert with_unapproved.verdict >= with_approved.verdict


def test_prohibited_or_high_risk_uses_are_never_green() -> None:
    risky = [
        a
        for a in all_answers()
        if assess(POLICY, a).risk_level in (RiskLevel.PROHIBITED_OR_HIGH, RiskLevel.HIGH)
    ]
    assert risky
    assert all(assess(POLICY, a).verdict is not Verdict.GREEN for a in risky)
    assert all(
        assess(POLICY, a).verdict is Verdict.RED
        for a in risky
        if assess(POLICY, a).risk_level is RiskLevel.PROHIBITED_OR_HIGH
    )


def test_personal_data_in_an_open_tool_is_red_and_points_to_the_text_check() -> None:
    result = assess(POLICY, Answers("summarise", "chatgpt", "restricted", False, False))
    assert result.verdict is Verdict.RED
    assert next(r.rule for r in result.reasons) == "personal_data_open_tool"
    assert result.next_steps[0] is NextStep.REMOVE_PERSONAL_DATA
    assert NextStep.USE_APPROVED_TOOL in result.next_steps
    assert result.alternatives == ("m365_copilot", "case_system_ai")
    assert 2 in result.vettregler


def test_open_information_in_an_approved_tool_is_green() -> None:
    result = assess(POLICY, Answers("write", "copilot_chat", "open", False, False))
    assert result.verdict is Verdict.GREEN
    assert {r.rule for r in result.reasons} == {"open_info", "minimal_risk"}
    assert result.next_steps == (NextStep.GO_AHEAD,)


def test_publishing_needs_review_and_labelling() -> None:
    result = assess(POLICY, Answers("write", "copilot_chat", "open", False, True))
    assert result.verdict is Verdict.YELLOW
    assert NextStep.LABEL_AI_CONTENT in result.next_steps


def test_decisions_about_people_with_an_approved_tool_are_yellow_with_a_human_deciding() -> None:
    result = assess(POLICY, Answers("write", "case_system_ai", "confidential", True, False))
    assert result.verdict is Verdict.YELLOW
    assert "condition.human_decides" in result.conditions
    assert NextStep.CONTACT_PRIVACY_OFFICER in result.next_steps


def test_unsure_information_is_treated_as_personal_data_in_open_tools() -> None:
    assert assess(POLICY, Answers("write", "gemini", UNSURE, False, False)).verdict is Verdict.RED
    sanctioned = assess(POLICY, Answers("write", "m365_copilot", UNSURE, False, False))
    assert sanctioned.verdict is Verdict.YELLOW
    assert NextStep.READ_STORAGE_GUIDE in sanctioned.next_steps


def test_changing_approvals_in_content_changes_the_verdict() -> None:
    raw = read_yaml("policy.yaml")
    assert isinstance(raw, dict)
    for tool in raw["tools"]:
        if tool["id"] == "copilot_chat":
            tool["approved_for"] = ["open", "restricted"]
    edited = parse_policy(raw)
    answers = Answers("summarise", "copilot_chat", "restricted", False, False)
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
    ],
)
def test_inconsistent_policy_content_is_a_clear_error(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError, match=message):
        parse_policy(_with_tool_change(**change))


def test_every_tool_class_is_represented_in_the_shipped_policy() -> None:
    assert {t.tool_class for t in POLICY.tools} == set(ToolClass)
