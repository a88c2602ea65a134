"""One month of the lab, for everyone at once.

The order within month ``m`` (days ``30m`` to ``30m + 29``; day 0 is a Monday):
1. court listings arrive, a share of them wrong; a disputed wrong listing is fixed within the
   policy's deadline and its cap lifts at once, 3 working days later or at the next month's run;
   an undisputed one is never fixed and runs its full term;
2. the month's person-days of wrongful restriction are counted;
3. scores are computed at month end: the person's own record, and, with the connections weight,
   the contacts' last scores less a penalty per listed contact; a listing caps the score;
4. a perk (deposit waived, score at or above ``perk_score``) adds history, a decline takes it away;
5. when connections count, people reviewing their contacts drop their lowest-scoring one for a
   higher-scoring stranger.
Every month draws the same random arrays under every policy (common random numbers), so policies
differ only by what they decide.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from credo.lab.policy import LabPolicy, World
from credo.lab.population import People

__all__ = ["DAYS", "month", "own_score"]

DAYS = 30
#: Calendar days to add for 3 working days, by weekday of the fix (Monday first).
_THREE_WORKING_DAYS = np.array([3, 3, 5, 5, 5, 4, 3], dtype=np.int64)


def own_score(people: People) -> NDArray[np.float64]:
    """The score the person's own record earns: history saturates, capacity shifts it."""
    saturation = 1.0 - np.exp(-people.history / 36.0)
    return np.asarray(480.0 + 200.0 * saturation + 60.0 * people.capacity, dtype=np.float64)


def _lift(fixed: NDArray[np.int64], policy: LabPolicy) -> NDArray[np.int64]:
    if policy.cap_lift == "at-once":
        return fixed
    if policy.cap_lift == "3-working-days":
        return fixed + _THREE_WORKING_DAYS[fixed % 7]
    return (fixed // DAYS + 1) * DAYS


def _listings(
    people: People, m: int, policy: LabPolicy, world: World, rng: np.random.Generator
) -> People:
    n, first = len(people.group), m * DAYS
    draws = rng.random((4, n))
    day = first + rng.integers(0, DAYS, n)
    free = people.listed_until <= first
    true = draws[0] < world.listing_rate * people.risk
    wrong_rate = world.listing_rate * world.wrong_share / (1.0 - world.wrong_share)
    wrong = (draws[1] < wrong_rate) & ~true
    new = free & (true | wrong)
    fixed = day + np.ceil(draws[2] * policy.dispute_deadline_days).astype(np.int64)
    disputed = wrong & (draws[3] < world.dispute_share)
    until = np.where(disputed, _lift(fixed, policy), day + world.listing_days)
    return people.with_(
        listed_from=np.where(new, day, people.listed_from),
        listed_until=np.where(new, until, people.listed_until),
        wrong=np.where(new, wrong, people.wrong),
    )


def wrongful_days(people: People, m: int) -> NDArray[np.int64]:
    """Days of month ``m`` each person spent under the cap of a wrong listing."""
    first, end = m * DAYS, (m + 1) * DAYS
    overlap = np.minimum(people.listed_until, end) - np.maximum(people.listed_from, first)
    return np.where(people.wrong, np.maximum(overlap, 0), 0)


def _score(people: People, m: int, policy: LabPolicy) -> NDArray[np.float64]:
    t = m * DAYS + DAYS - 1
    listed = (people.listed_from <= t) & (t < people.listed_until)
    weight = policy.connections_weight
    connection = people.score[people.contacts].mean(axis=1) - (
        policy.listed_contact_penalty * listed[people.contacts].mean(axis=1)
    )
    score = np.rint(np.clip((1.0 - weight) * own_score(people) + weight * connection, 350, 950))
    capped: NDArray[np.float64] = np.where(listed, np.minimum(score, policy.court_cap), score)
    return capped


def _rewire(
    people: People,
    score: NDArray[np.float64],
    policy: LabPolicy,
    world: World,
    rng: np.random.Generator,
) -> NDArray[np.intp]:
    n = len(score)
    reviewing = rng.random(n) < world.rewire_rate
    stranger = rng.integers(0, n, n)
    if policy.connections_weight == 0:
        return people.contacts
    contact_scores = score[people.contacts]
    lowest = np.argmin(contact_scores, axis=1)
    low = contact_scores[np.arange(n), lowest]
    swap = reviewing & (low < score) & (score[stranger] > low) & (stranger != np.arange(n))
    contacts = people.contacts.copy()
    contacts[np.flatnonzero(swap), lowest[swap]] = stranger[swap]
    return contacts


def month(
    people: People, m: int, policy: LabPolicy, world: World, rng: np.random.Generator
) -> tuple[People, NDArray[np.int64]]:
    """The population after month ``m``, and each person's wrongful-restriction days in it."""
    people = _listings(people, m, policy, world, rng)
    days = wrongful_days(people, m)
    score = _score(people, m, policy)
    history = people.history + 1.0
    history = np.where(score >= policy.perk_score, history + policy.perk_gain_months, history)
    history = np.where(
        score < policy.decline_score, np.maximum(history - policy.decline_loss_months, 0.0), history
    )
    contacts = _rewire(people, score, policy, world, rng)
    return people.with_(score=score, history=history, contacts=contacts), days
