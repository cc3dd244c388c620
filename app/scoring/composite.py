"""The composite index: normalise, weight, add up to 0-100, rank and classify.

score_i = sum_j c_ij,   c_ij = 100 * w_j * v_ij / sum_k w_k,

where v_ij in [0, 1] is variable j of unit i normalised across the units of the ranking, so
each contribution c_ij is visible and they add up to the score. Ranks: 1 = most critical,
ties broken by unit code. Classes come from a documented classifier (mapclassify).
"""

from __future__ import annotations

import math
import warnings

import mapclassify
import numpy as np
import pandas as pd

from app.scoring.jenks import fisher_jenks_classes
from app.scoring.profiles import Classifier, Normalisation, ScoringProfile

CLASSES = ("bajo", "medio", "alto", "crítico")  # ascending
# Labels when the scores have fewer than four distinct groups: the lowest group is always
# "bajo" and the highest "crítico" only when there are at least two groups.
_LABELS_BY_GROUPS = {
    1: ("bajo",),
    2: ("bajo", "crítico"),
    3: ("bajo", "medio", "crítico"),
    4: CLASSES,
}
# Method 2: with three groups the middle one is "alto" (above the bulk, below the critical),
# so "crítico" and "alto" always name the groups above the lowest one(s).
_LABELS_BY_GROUPS_V2 = {**_LABELS_BY_GROUPS, 3: ("bajo", "alto", "crítico")}
SCORE_DECIMALS = 9  # ranks and classes compare scores at this precision, not float noise


def normalise(
    raw: pd.DataFrame, method: Normalisation, inverted: frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Each column to [0, 1] across units, higher = more critical."""
    oriented = raw.astype(float).copy()
    for column in inverted & set(oriented.columns):
        oriented[column] = -oriented[column]
    if method is Normalisation.PERCENTILE:
        return oriented.apply(_percentile)
    return oriented.apply(_min_max)


def _min_max(column: pd.Series) -> pd.Series:
    low, high = float(column.min()), float(column.max())
    if high - low <= 0:
        return pd.Series(0.0, index=column.index)  # nobody stands out: no contribution
    return (column - low) / (high - low)


def _percentile(column: pd.Series) -> pd.Series:
    if len(column) < 2:
        return pd.Series(0.0, index=column.index)
    return (column.rank(method="average") - 1.0) / (len(column) - 1.0)


def contributions(normalised: pd.DataFrame, profile: ScoringProfile) -> pd.DataFrame:
    """c_ij = 100 * w_j * v_ij / sum(w), for every weighted variable (weight 0 included)."""
    total = profile.weight_total
    columns = list(profile.weights)
    scaled = {name: 100.0 * profile.weights[name] / total for name in columns}
    return pd.DataFrame(
        {name: normalised[name] * scaled[name] for name in columns}, index=normalised.index
    )


def scores(contrib: pd.DataFrame) -> pd.Series:
    """Row sums of the contributions (math.fsum: independent of column order)."""
    values = [math.fsum(row) for row in contrib.to_numpy(dtype=float)]
    return pd.Series(np.clip(values, 0.0, 100.0), index=contrib.index, name="score")


def rank(score: pd.Series) -> pd.Series:
    """1 = highest score; equal scores (at SCORE_DECIMALS) ordered by unit code."""
    frame = pd.DataFrame({"key": -score.round(SCORE_DECIMALS), "code": score.index.map(str)})
    ordered = frame.sort_values(["key", "code"], kind="mergesort").index
    return pd.Series(range(1, len(ordered) + 1), index=ordered, name="rank").reindex(score.index)


def classify(score: pd.Series, method: Classifier) -> pd.Series:
    """crítico / alto / medio / bajo by Fisher-Jenks natural breaks (or quartiles).

    Fisher-Jenks is mapclassify's algorithm run by `app.scoring.jenks` (numpy, same breaks).

    With fewer than four distinct scores the classifier gets k = number of distinct scores;
    with one distinct score (e.g. all zero) every unit is "bajo": none stands out.
    """
    rounded = score.round(SCORE_DECIMALS)
    distinct = int(rounded.nunique())
    if distinct <= 1:
        return pd.Series("bajo", index=score.index, name="class")
    k = min(len(CLASSES), distinct)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # mapclassify on ties: handled below
        if method is Classifier.QUANTILES:
            bins = mapclassify.Quantiles(rounded.to_numpy(), k=k).yb
        else:
            bins = fisher_jenks_classes(rounded.to_numpy(), k)  # = mapclassify.FisherJenks
    groups, position = np.unique(bins, return_inverse=True)
    labels = np.array(_LABELS_BY_GROUPS[len(groups)], dtype=object)
    return pd.Series(labels[position], index=score.index, name="class")


MIN_CLASS_SIZE = 2


def classify_min_size(
    score: pd.Series, method: Classifier, min_size: int = MIN_CLASS_SIZE
) -> pd.Series:
    """`classify`, then classes smaller than `min_size` merged into a neighbour (method 2).

    A class of one unit is a label on a single number, not a group (with five barrios, four
    classes leave at least one class of one). Natural breaks with four classes (or as many as
    distinct scores) first; then, while a class is smaller than `min_size`, it joins the
    adjacent class whose nearest score is closer (ties: the class above). The groups left are
    labelled from the bottom: bajo; bajo, crítico; bajo, alto, crítico; bajo, medio, alto,
    crítico.
    """
    rounded = score.round(SCORE_DECIMALS)
    distinct = int(rounded.nunique())
    if distinct <= 1 or len(score) < 2 * min_size:
        return pd.Series("bajo", index=score.index, name="class")
    k = min(len(CLASSES), distinct)
    values = rounded.to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        if method is Classifier.QUANTILES:
            bins = mapclassify.Quantiles(values, k=k).yb
        else:
            bins = fisher_jenks_classes(values, k)
    groups = [values[bins == g] for g in np.unique(bins)]  # ascending, each a score array
    members = [np.flatnonzero(bins == g) for g in np.unique(bins)]
    while len(groups) > 1 and min(len(g) for g in groups) < min_size:
        i = min(range(len(groups)), key=lambda j: (len(groups[j]), -j))  # smallest, highest
        if i == 0:
            target = 1
        elif i == len(groups) - 1:
            target = i - 1
        else:
            below = groups[i].min() - groups[i - 1].max()
            above = groups[i + 1].min() - groups[i].max()
            target = i + 1 if above <= below else i - 1
        low, high = sorted((i, target))
        groups[low] = np.concatenate([groups[low], groups[high]])
        members[low] = np.concatenate([members[low], members[high]])
        del groups[high], members[high]
    labels = _LABELS_BY_GROUPS_V2[len(groups)]
    out = np.empty(len(values), dtype=object)
    for label, positions in zip(labels, members, strict=True):
        out[positions] = label
    return pd.Series(out, index=score.index, name="class")


def top_variables(contrib: pd.DataFrame, n: int = 3) -> pd.Series:
    """The n variables that add most to each unit's score (ties by name), zeros left out."""
    names = [str(name) for name in contrib.columns]
    leaders = []
    for row in contrib.to_numpy(dtype=float):  # a loop over arrays: no Series per unit
        ordered = sorted(
            (-value, name) for value, name in zip(row, names, strict=True) if value > 0
        )
        leaders.append([name for _, name in ordered[:n]])
    return pd.Series(leaders, index=contrib.index, name="top_variables", dtype=object)
