"""consents: the person's own choices from the Credo app (JSON Lines).

Quirks: upper-case action codes, UTC times written with a literal 'Z', the wallet's user id
(the same 2088... id as in alipay_payments, a strong link between the two), and the
identity number and phone the person verified with. Most persons enrol (about 90%), about 3%
of those later leave; enrolled persons grant consent to partners for purposes and sometimes
revoke it. Nothing is recorded for a person after they leave.
"""

from __future__ import annotations

import numpy as np

from credo.sim.context import Context, order_by
from credo.sim.frame import SourceFrame
from credo.sim.partners import GRANTS
from credo.sim.window import format_times

__all__ = ["ACTIONS", "build"]

ACTIONS = {"ENROL": "enrol", "LEAVE": "leave", "GRANT": "grant", "REVOKE": "revoke"}


def build(ctx: Context) -> SourceFrame:
    rng = ctx.rng("consents")
    p, w = ctx.persons, ctx.window
    enrolled = np.flatnonzero(rng.random(p.n) < 0.9)
    k = len(enrolled)
    # Enrolment in the first two thirds of each person's time on file: of the window for those
    # on file from its start; a steady population's new files enrol in every month, the last
    # one included (credo.sim.arrivals).
    joined = w.times_on(rng, p.on_file(enrolled, w.random_days(rng, k, tail=w.days // 3), w))
    span = (w.last_second - joined).astype(np.int64)
    leaves = rng.random(k) < 0.03
    left = joined + (rng.uniform(0.3, 1.0, size=k) * span).astype("timedelta64[s]")

    persons = [enrolled, enrolled[leaves]]
    actions = [np.full(k, "ENROL", dtype=object), np.full(int(leaves.sum()), "LEAVE", dtype=object)]
    times = [joined, left[leaves]]
    partner_parts = [np.full(k + int(leaves.sum()), None, dtype=object)]
    purpose_parts = [np.full(k + int(leaves.sum()), None, dtype=object)]
    grants = rng.poisson(1.3, size=k)
    g_who = np.repeat(np.arange(k), grants)
    weights = np.array([g[2] for g in GRANTS])
    g_pick = rng.choice(len(GRANTS), size=len(g_who), p=weights / weights.sum())
    end_of_membership = np.where(leaves, left, w.last_second)[g_who]
    g_span = (end_of_membership - joined[g_who]).astype(np.int64)
    granted = joined[g_who] + (rng.uniform(0.0, 0.6, size=len(g_who)) * g_span).astype(
        "timedelta64[s]"
    )
    # a person grants each partner and purpose once: keep the first draw of each pair
    _, first = np.unique(g_who * len(GRANTS) + g_pick, return_index=True)
    first = np.sort(first)
    g_who, g_pick, granted, end_of_membership = (
        g_who[first],
        g_pick[first],
        granted[first],
        end_of_membership[first],
    )
    revoked = rng.random(len(g_who)) < 0.15
    r_span = (end_of_membership - granted).astype(np.int64)
    revoked_at = granted + (rng.uniform(0.2, 1.0, size=len(g_who)) * r_span).astype(
        "timedelta64[s]"
    )
    revoked &= revoked_at > granted
    partner = np.array([g[0] for g in GRANTS], dtype=object)[g_pick]
    purpose = np.array([g[1] for g in GRANTS], dtype=object)[g_pick]
    persons += [enrolled[g_who], enrolled[g_who[revoked]]]
    actions += [
        np.full(len(g_who), "GRANT", dtype=object),
        np.full(int(revoked.sum()), "REVOKE", dtype=object),
    ]
    times += [granted, revoked_at[revoked]]
    partner_parts += [partner, partner[revoked]]
    purpose_parts += [purpose, purpose[revoked]]

    person = np.concatenate(persons).astype(np.int64)
    action = np.concatenate(actions)
    when = np.concatenate(times)
    rank = np.array([list(ACTIONS).index(str(a)) for a in action.tolist()])
    order = order_by(when, person, rank)
    person, action, when = person[order], action[order], when[order]
    partner_col = np.concatenate(partner_parts)[order]
    purpose_col = np.concatenate(purpose_parts)[order]
    n = len(person)
    ident = ctx.identifiers(person, when.astype("datetime64[D]"), rng)
    versions = np.array(["5.2.0", "5.3.1", "5.4.0"], dtype=object)
    return SourceFrame(
        source="consents",
        file_name="consents.jsonl",
        format="jsonl",
        columns={
            "eventId": [f"ce-{ctx.first_row + k + 1:09d}" for k in range(n)],
            "userId": p.alipay_uid[person],
            "idNo": ident.national_id(missing=False),
            "mobile": ident.phone(missing=False),
            "action": action,
            "partner": partner_col,
            "purpose": purpose_col,
            "ts": format_times(when, "%Y-%m-%dT%H:%M:%SZ"),
            "appVersion": versions[rng.integers(0, len(versions), size=n)],
        },
        record_id="eventId",
        person=person,
        noise=ident.noise(),
    )
