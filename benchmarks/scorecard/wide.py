"""A wide generated loan table: 54 features, many weak, correlated or categorical (issue 13).

Four latent risk factors each show through three correlated measurements; sixteen weak numeric
features (some U-shaped, some only through a threshold); ten categorical features of 3 to 40
levels with small effects; four flags; three pairs that carry risk only as a contrast (the
instalment for the amount, the debt for the income, the balance for the limit); six noise
columns; some cells missing. On this shape a card built from each feature's own evidence falls
behind logistic regression, which reads the contrasts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def wide_table(n: int = 20000, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and y (1 = bad), the same for the same ``n`` and ``seed``."""
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    logit = np.full(n, -1.9)
    factors = rng.normal(size=(n, 4))
    weights = (0.55, -0.45, 0.35, -0.25)
    for k, weight in enumerate(weights):
        logit += weight * factors[:, k]
        for j, loading in enumerate((0.85, 0.7, 0.55)):
            x = loading * factors[:, k] + np.sqrt(1 - loading**2) * rng.normal(size=n)
            columns[f"factor{k}_m{j}"] = np.round(np.exp(x) if j == 2 else x * 10 + 50, 2)
    for j in range(16):
        x = rng.normal(size=n)
        effect = 0.04 + 0.01 * j
        if j % 4 == 0:
            logit += effect * (x**2 - 1)
        elif j % 4 == 1:
            logit += 2 * effect * (x > 1.0)
        else:
            logit += effect * x * (1 if j % 2 else -1)
        columns[f"weak{j}"] = np.round(x * 3 + 20, 1)
    for j in range(10):
        levels = [3, 5, 8, 12, 20, 40, 4, 6, 10, 25][j]
        codes = rng.zipf(1.6, n) % levels
        effects = rng.normal(scale=0.08 + 0.02 * (j % 4), size=levels)
        logit += effects[codes]
        columns[f"cat{j}"] = np.array([f"c{j}_{c}" for c in codes], dtype=object)
    for j in range(4):
        flag = rng.random(n) < 0.1 + 0.1 * j
        logit += (0.15 - 0.1 * j) * flag
        columns[f"flag{j}"] = flag.astype(np.int64)
    # Loan book pairs that carry risk only as a contrast: the instalment for the amount (the
    # rate), the debt for the income, the limit used for the limit. Each alone is weak or even
    # points the other way; logistic regression reads the contrast, a card needs both.
    amount = rng.lognormal(9, 0.6, n)
    rate = rng.normal(size=n)
    columns["loan_amount"] = np.round(amount, 0)
    columns["instalment"] = np.round(amount * np.exp(0.25 * rate) / 36, 2)
    logit += 0.5 * rate
    income = rng.lognormal(10, 0.5, n)
    burden = rng.normal(size=n)
    columns["income"] = np.round(income, 0)
    columns["debt"] = np.round(income * np.exp(0.3 * burden - 1), 0)
    logit += 0.4 * burden - 0.2 * (np.log(income) - 10)
    limit = rng.lognormal(8, 0.8, n)
    used = rng.normal(size=n)
    columns["credit_limit"] = np.round(limit, 0)
    columns["balance"] = np.round(limit / (1 + np.exp(-used)), 0)
    logit += 0.35 * used
    for j in range(6):
        columns[f"noise{j}"] = np.round(rng.normal(size=n), 3)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(columns)
    for name in ("factor0_m1", "weak3", "weak7", "factor2_m0"):
        frame.loc[rng.random(n) < 0.08, name] = np.nan
    for name in ("cat2", "cat5"):
        frame[name] = frame[name].where(rng.random(n) >= 0.05, None)
    return frame, y
