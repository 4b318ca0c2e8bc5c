"""Fuzzing campaign: every parser of untrusted input on both sides, fed structure-aware cases
(hypothesis) and a seeded mutation loop over real wire bodies. The only allowed outcome of
bad input is a documented EcmtError / problem code; every input that did anything else is
saved under build/campaigns/failures/ and, once fixed, kept in tests/campaigns/corpus/.

Counts per parser: STRUCTURED + MUTATED inputs, times ECMT_FUZZ_SCALE.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
from campaign_support import ROOT, base_seed, scale
from fuzz_inputs import mutator_for, strategy_for
from fuzz_targets import RELEASE_STATE, TARGETS, Wire, corpus_cases, outcome_of
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed

pytestmark = pytest.mark.timeout(300 * scale())  # a nightly scale runs longer

STRUCTURED = 1_000
MUTATED = 100_000
WORKERS = max(1, min(2, os.cpu_count() or 1))  # CI has 2 cores
CHUNK_LIMIT = 1200  # seconds: a bound on a hung loop, not a speed requirement
FAILURES = ROOT / "build" / "campaigns" / "failures"
MAX_REPORTED = 10


def _tally(figures: dict[str, Any], name: str) -> dict[str, Any]:
    target = TARGETS[name]
    fuzz = figures.setdefault("fuzz", {})
    fuzz["scale"] = scale()
    fuzz["seed"] = base_seed()
    parsers = fuzz.setdefault("parsers", {})
    return parsers.setdefault(
        name,
        {
            "what": target.what,
            "side": target.side,
            "structured": 0,
            "mutated": 0,
            "failures": 0,
            "outcomes": {},
        },
    )


def _save(name: str, data: bytes) -> Path:
    folder = FAILURES / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(data).hexdigest()[:16]}.bin"
    path.write_bytes(data)
    return path


def _seed_of(name: str) -> int:
    return base_seed() + int(hashlib.sha256(name.encode()).hexdigest()[:8], 16)


def fuzz_chunk(
    name: str, wire: Wire, seed: int, count: int, state: Path
) -> tuple[Counter[str], list[tuple[str, bytes]]]:
    """`count` mutated inputs from `seed`, in a worker process: outcomes and failures."""
    import logging

    logging.disable(logging.WARNING)  # the server logs each unreadable forwarded certificate
    wire.release_state = state
    wire.release_state.write_bytes(RELEASE_STATE)
    target = TARGETS[name]
    produce = mutator_for(name, wire, seed)
    outcomes: Counter[str] = Counter()
    failures: list[tuple[str, bytes]] = []
    for _ in range(count):
        data = produce()
        outcome, failure = outcome_of(target, wire, data)
        outcomes[outcome] += 1
        if failure is not None and len(failures) < MAX_REPORTED:
            failures.append((failure, data))
    return outcomes, failures


@pytest.fixture(scope="module")
def workers() -> Iterator[ProcessPoolExecutor]:
    """The mutation loops run on every core (spawned: no server thread is copied along)."""
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("name", list(TARGETS))
def test_mutated_inputs(
    name: str,
    wire: Wire,
    workers: ProcessPoolExecutor,
    figures: dict[str, Any],
    tmp_path: Path,
) -> None:
    target = TARGETS[name]
    count = MUTATED * scale()
    shares = [count // WORKERS + (1 if i < count % WORKERS else 0) for i in range(WORKERS)]
    chunks = [
        workers.submit(fuzz_chunk, name, wire, _seed_of(name) + i, n, tmp_path / f"state-{i}")
        for i, n in enumerate(shares)
    ]
    outcomes: Counter[str] = Counter()
    failures: list[str] = []
    for chunk in chunks:
        found, failed = chunk.result(timeout=CHUNK_LIMIT)
        outcomes += found
        failures += [f"{failure} <- {_save(name, data)}" for failure, data in failed]
    assert sum(outcomes.values()) == count
    tally = _tally(figures, name)
    tally["mutated"] = count
    tally["failures"] += sum(n for o, n in outcomes.items() if o not in target.allowed)
    tally["outcomes"] = dict(sorted((Counter(tally["outcomes"]) + outcomes).items()))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("name", list(TARGETS))
def test_structured_inputs(name: str, wire: Wire, figures: dict[str, Any]) -> None:
    target = TARGETS[name]
    outcomes: Counter[str] = Counter()

    @hypothesis_seed(_seed_of(name))
    @settings(
        max_examples=STRUCTURED * scale(),
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=strategy_for(name, wire))
    def check(data: bytes) -> None:
        outcome, failure = outcome_of(target, wire, data)
        outcomes[outcome] += 1
        assert failure is None, f"{failure} <- {_save(name, data)}"

    try:
        check()
    finally:
        tally = _tally(figures, name)
        tally["structured"] = sum(outcomes.values())
        tally["outcomes"] = dict(sorted((Counter(tally["outcomes"]) + outcomes).items()))


@pytest.mark.parametrize(
    ("name", "path"),
    corpus_cases(),
    ids=[f"{n}/{p.name}" for n, p in corpus_cases()],
)
def test_saved_inputs_stay_fixed(name: str, path: Path, wire: Wire) -> None:
    """Every input a campaign once found, replayed: its outcome must stay documented."""
    _outcome, failure = outcome_of(TARGETS[name], wire, path.read_bytes())
    assert failure is None, failure
