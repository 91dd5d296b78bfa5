"""How bench/soak judges a run: memory is judged only after the warm-up (every conversation once
through the whole mix), errors count in both parts, and a run whose warm-up never finished is not
passed. Synthetic samples and log lines; nothing is timed."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.soak import FLOWS, KINDS, Soak, read_log, session, staggered, verdict


def run(samples: list[tuple[float, float]], *, warmup_s: float, rounds: int = 100) -> Soak:
    result = Soak("sqlite", conversations=100, seconds=60.0)
    result.warmup_s = warmup_s
    result.warmup_rounds = rounds
    result.rss = samples
    return result


def rising_then_flat() -> list[tuple[float, float]]:
    """80 MB rising to 150 MB over a 120-s warm-up, then flat at 150 MB for 60 s, then the drain
    after the load stopped (which must not count)."""
    warming = [(float(t), 80.0 + 70.0 * t / 120) for t in range(0, 120)]
    steady = [(float(t), 150.0) for t in range(120, 181)]
    drain = [(float(t), 120.0) for t in range(181, 190)]
    return warming + steady + drain


def test_memory_that_levels_off_after_the_warm_up_meets_the_goal() -> None:
    result = run(rising_then_flat(), warmup_s=120.0)

    assert result.steady_slope == 0.0
    assert result.rss_at(result.measure_from) == 150.0
    assert result.rss_end == 150.0
    assert verdict(result) == "met"


def test_the_same_samples_judged_from_the_start_would_look_like_a_leak() -> None:
    result = run(rising_then_flat(), warmup_s=0.0)
    result.seconds = 180.0

    assert result.steady_slope > 5.0
    assert verdict(result) == "missed"


def test_memory_still_growing_while_measuring_misses_the_goal() -> None:
    samples = [(float(t), 100.0 + 0.2 * t) for t in range(0, 181)]  # 12 MB/min throughout
    result = run(samples, warmup_s=120.0)

    assert 11.9 < result.steady_slope < 12.1
    assert verdict(result) == "missed"


def test_the_slope_is_per_process() -> None:
    samples = [(float(t), 200.0 + 0.2 * t) for t in range(0, 181)]  # two processes, 6 each
    result = run(samples, warmup_s=120.0)
    result.processes = 2

    assert 5.9 < result.steady_slope < 6.1


def test_a_warm_up_that_never_finished_is_not_passed() -> None:
    flat = [(float(t), 150.0) for t in range(0, 181)]
    result = run(flat, warmup_s=120.0, rounds=99)

    assert not result.warmup_complete
    assert verdict(result) == "not measured"


def test_turns_belong_to_the_part_they_were_sent_in_and_errors_count_in_both() -> None:
    result = run(rising_then_flat(), warmup_s=120.0)

    result.phase_at(119.9).timeouts += 3
    result.phase_at(120.0).turns += 1
    result.phase_at(150.0).non_2xx += 1

    assert (result.warmup.timeouts, result.warmup.turns) == (3, 0)
    assert (result.measured.turns, result.measured.non_2xx) == (1, 1)
    assert result.errors == 4


def test_the_bots_log_errors_are_counted_in_the_part_their_time_stamp_falls_in(
    tmp_path: Path,
) -> None:
    began = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)
    result = run(rising_then_flat(), warmup_s=120.0)
    result.warmup_ended_at = began + timedelta(seconds=120)

    def line(seconds: int, level: str, event: str) -> str:
        at = (began + timedelta(seconds=seconds)).isoformat()
        return json.dumps({"ts": at, "level": level, "event": event})

    log = tmp_path / "bot.log"
    log.write_text(
        "\n".join(
            [
                line(5, "WARNING", "dev_mode_unauthenticated"),
                line(30, "ERROR", "turn_failed"),
                line(130, "WARNING", "turn_failed"),
                line(140, "WARNING", "storage_slow"),
                "Traceback (most recent call last):",
            ]
        ),
        "utf-8",
    )

    read_log(log, result)

    assert result.warmup.log_errors == 1
    assert result.measured.log_errors == 2  # turn_failed at 130 s and the bare traceback
    assert dict(result.measured.log_warnings) == {"ERROR turn_failed": 1, "storage_slow": 1}
    assert result.errors == 3


def test_a_conversation_is_warm_after_one_round_of_every_kind_of_turn() -> None:
    round_ = session("http://stub", "a:1", random.Random(1))

    assert tuple(turn.kind for turn in round_) == KINDS


def test_conversations_begin_at_different_flows_and_keep_ki_sjekk_in_order() -> None:
    firsts = []
    for index in range(2 * len(FLOWS)):
        first_round = staggered(session("http://stub", f"a:{index}", random.Random(index)), index)
        kinds = [turn.kind for turn in first_round]
        assert sorted(kinds) == sorted(KINDS)  # every kind once, nothing lost or repeated
        steps = [k for k in kinds if k.startswith("ki-sjekk")]
        assert steps == [k for k in KINDS if k.startswith("ki-sjekk")]
        at = kinds.index("ki-sjekk start")
        assert kinds[at : at + len(steps)] == steps  # the steps stay together
        firsts.append(kinds[0])
    assert set(firsts) == {flow[0] for flow in FLOWS}
    assert firsts[: len(FLOWS)] == firsts[len(FLOWS) :]  # the same every run
