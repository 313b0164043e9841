"""An analyst's edits of a scorecard's bins: checking them, turning them into fixed bins,
and the trend check that needs the training rows.

Edit kinds (each a dict naming one ``feature`` and one action):
``breaks`` (numeric break points), ``merge`` ([i, i+1]: two adjacent interval bins of the
base card), ``split`` ({"bin": i, "at": value} inside interval bin i of the base card),
``groups`` (categorical level groups; levels not named go to the "other" bin) and
``include`` (force a candidate in or out of the model). A feature takes at most one bin
edit and one ``include`` per refit.

Bins an analyst set stay set: the card's ``manual`` block carries them (as breaks or groups)
and the forced inclusions to every later refit that names the card as its base, until an
edit of the same feature replaces them.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from ..spec import Problem
from .binning import INTERVAL, interval_breaks
from .params import _

BIN_ACTIONS = ("breaks", "merge", "split", "groups")
ACTIONS = (*BIN_ACTIONS, "include")
EXPLICIT_TRENDS = ("ascending", "descending")
UNUSABLE = ("single value", "no values")


@dataclass
class EditContext:
    """What the edits are checked against: columns, their kind and levels, the base card's
    bins per feature, and the features that cannot enter a model (reason)."""

    columns: list[str]
    categorical: dict[str, list[str]]
    base_bins: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    unusable: dict[str, str] = field(default_factory=dict)


def context_from_card(card: dict[str, Any]) -> EditContext:
    bins = {f["name"]: f["bins"] for f in card.get("features", [])}
    bins.update({c["name"]: c["bins"] for c in card.get("candidates", []) if c.get("bins")})
    unusable = {c["name"]: c["reason"] for c in card.get("candidates", []) if c.get("reason") in UNUSABLE}
    return EditContext(list(card.get("columns", [])), dict(card.get("categoricalLevels", {})), bins, unusable)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_index(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def edit_problems(edits: Any, ctx: EditContext) -> list[Problem]:
    """Every problem of ``edits`` that can be seen without the training rows."""
    if not isinstance(edits, list):
        return [Problem(_("edits must be a list of objects"))]
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    for n, edit in enumerate(edits):
        if not isinstance(edit, dict) or not isinstance(edit.get("feature"), str):
            problems.append(Problem(_("edit %(n)s must be an object naming a feature"), n=n + 1))
            continue
        feature = edit["feature"]
        actions = [k for k in edit if k in ACTIONS]
        stray = [k for k in edit if k not in ACTIONS and k != "feature"]
        if len(actions) != 1 or stray:
            problems.append(
                Problem(
                    _("edit %(n)s of %(feature)s must have exactly one of %(actions)s"),
                    n=n + 1,
                    feature=feature,
                    actions=", ".join(ACTIONS),
                )
            )
            continue
        if feature not in ctx.columns:
            problems.append(
                Problem(_("edit %(n)s names an unknown feature %(feature)s"), n=n + 1, feature=feature)
            )
            continue
        action = actions[0]
        slot = "include" if action == "include" else "bins"
        if (feature, slot) in seen:
            problems.append(
                Problem(
                    _("%(feature)s is edited more than once; give its bins in one edit (one breaks list)"),
                    feature=feature,
                )
            )
            continue
        seen.add((feature, slot))
        problems.extend(_CHECKS[action](feature, edit[action], ctx))
    return problems


def _check_include(feature: str, value: Any, ctx: EditContext) -> list[Problem]:
    if not isinstance(value, bool):
        return [Problem(_("include of %(feature)s must be true or false"), feature=feature)]
    if value and feature in ctx.unusable:
        return [
            Problem(
                _("%(feature)s cannot be included: %(reason)s"), feature=feature, reason=ctx.unusable[feature]
            )
        ]
    return []


def _check_breaks(feature: str, value: Any, ctx: EditContext) -> list[Problem]:
    if feature in ctx.categorical:
        return [
            Problem(_("%(feature)s is categorical: give its bins as groups, not breaks"), feature=feature)
        ]
    ok = isinstance(value, list) and value and all(_is_number(v) for v in value)
    if not ok or any(b <= a for a, b in itertools.pairwise(value)):
        return [
            Problem(
                _("breaks of %(feature)s must be finite numbers in increasing order; got %(breaks)s"),
                feature=feature,
                breaks=repr(value),
            )
        ]
    return []


def _intervals(feature: str, ctx: EditContext, action: str) -> tuple[list[dict[str, Any]], list[Problem]]:
    if feature in ctx.categorical:
        return [], [
            Problem(
                _("%(feature)s is categorical: %(action)s applies to interval bins; use groups"),
                feature=feature,
                action=action,
            )
        ]
    bins = ctx.base_bins.get(feature)
    if not bins:
        return [], [
            Problem(
                _("%(action)s of %(feature)s needs the bins of a base card; pass the card as base_card"),
                action=action,
                feature=feature,
            )
        ]
    return [b for b in bins if b["kind"] == INTERVAL], []


def _out_of_range(feature: str, index: Any, intervals: list[dict[str, Any]]) -> Problem:
    return Problem(
        _(
            "bin %(index)s of %(feature)s is not an interval bin; its interval bins are "
            "0 = %(first)s to %(last)s = %(label)s"
        ),
        index=repr(index),
        feature=feature,
        first=intervals[0]["label"],
        last=len(intervals) - 1,
        label=intervals[-1]["label"],
    )


def _check_merge(feature: str, value: Any, ctx: EditContext) -> list[Problem]:
    intervals, problems = _intervals(feature, ctx, "merge")
    if problems:
        return problems
    if not (isinstance(value, list) and len(value) == 2 and all(_is_index(v) for v in value)):
        return [Problem(_("merge of %(feature)s must be two bin indexes [i, i+1]"), feature=feature)]
    bad = [v for v in value if not 0 <= v < len(intervals)]
    if bad:
        return [_out_of_range(feature, bad[0], intervals)]
    i, j = value
    if j != i + 1:
        return [
            Problem(
                _(
                    "bins %(a)s and %(b)s of %(feature)s are not adjacent; "
                    "merge takes two neighbouring bins [i, i+1]"
                ),
                a=intervals[i]["label"],
                b=intervals[j]["label"],
                feature=feature,
            )
        ]
    return []


def _check_split(feature: str, value: Any, ctx: EditContext) -> list[Problem]:
    intervals, problems = _intervals(feature, ctx, "split")
    if problems:
        return problems
    if not (isinstance(value, dict) and set(value) == {"bin", "at"} and _is_index(value["bin"])
            and _is_number(value["at"])):  # fmt: skip
        return [Problem(_('split of %(feature)s must be {"bin": index, "at": number}'), feature=feature)]
    i, at = value["bin"], value["at"]
    if not 0 <= i < len(intervals):
        return [_out_of_range(feature, i, intervals)]
    b = intervals[i]
    if (b["lower"] is not None and at <= b["lower"]) or (b["upper"] is not None and at >= b["upper"]):
        return [
            Problem(
                _("%(at)s is not inside bin %(label)s of %(feature)s, so it cannot split it"),
                at=repr(at),
                label=b["label"],
                feature=feature,
            )
        ]
    return []


def _check_groups(feature: str, value: Any, ctx: EditContext) -> list[Problem]:
    levels = ctx.categorical.get(feature)
    if levels is None:
        return [Problem(_("%(feature)s is numeric: set its bins with breaks, not groups"), feature=feature)]
    ok = isinstance(value, list) and value and all(isinstance(g, list) and g for g in value)
    if not ok or not all(isinstance(v, str) for g in value for v in g):
        return [Problem(_("groups of %(feature)s must be non-empty lists of level names"), feature=feature)]
    named = [v for g in value for v in g]
    known = set(levels)
    problems = []
    unknown = sorted({v for v in named if v not in known})
    if unknown:
        problems.append(
            Problem(
                _("groups of %(feature)s name unknown levels: %(levels)s"),
                feature=feature,
                levels=", ".join(map(repr, unknown)),
            )
        )
    repeated = sorted({v for v in named if named.count(v) > 1})
    if repeated:
        problems.append(
            Problem(
                _("groups of %(feature)s name levels more than once: %(levels)s"),
                feature=feature,
                levels=", ".join(map(repr, repeated)),
            )
        )
    return problems


_CHECKS = {
    "breaks": _check_breaks,
    "merge": _check_merge,
    "split": _check_split,
    "groups": _check_groups,
    "include": _check_include,
}


def card_edit_problems(card: dict[str, Any], edits: list[dict[str, Any]]) -> list[Problem]:
    """Problems of ``edits`` against ``card`` (its columns, levels and bins). The event-rate
    trend of edited bins needs the training rows: ``fit_scorecard`` checks it as well."""
    return edit_problems(edits, context_from_card(card))


# --------------------------------------------------------------------------- applying


def manual_layouts(
    edits: list[dict[str, Any]], ctx: EditContext, base_manual: dict[str, Any] | None
) -> dict[str, Any]:
    """The card's ``manual`` block after ``edits`` (already checked): the base card's block
    with each edited feature's bins (as ``{"breaks": [...]}`` or ``{"groups": [[...]]}``)
    and forced inclusions replaced."""
    bins = dict((base_manual or {}).get("bins", {}))
    include = dict((base_manual or {}).get("include", {}))
    for edit in edits:
        feature = edit["feature"]
        if "include" in edit:
            include[feature] = edit["include"]
        elif "breaks" in edit:
            bins[feature] = {"breaks": [float(v) for v in edit["breaks"]]}
        elif "groups" in edit:
            bins[feature] = {"groups": [list(g) for g in edit["groups"]]}
        else:
            breaks = interval_breaks(ctx.base_bins[feature])
            if "merge" in edit:
                del breaks[edit["merge"][0]]  # the break between bin i and bin i+1
            else:
                breaks = sorted([*breaks, float(edit["split"]["at"])])
            bins[feature] = {"breaks": breaks}
    return {"bins": bins, "include": include}


def edited_features(edits: list[dict[str, Any]]) -> set[str]:
    return {e["feature"] for e in edits if any(k in e for k in BIN_ACTIONS)}


def trend_problems(feature: str, bins: list[dict[str, Any]], trend: str) -> list[Problem]:
    """Where a numeric feature's edited bins break the event-rate order explicitly asked for
    it (empty intervals are skipped: they have no rate). Category groups have no order."""
    if trend not in EXPLICIT_TRENDS:
        return []
    kept = [b for b in bins if b["kind"] == INTERVAL and b["count"]]
    problems = []
    for a, b in itertools.pairwise(kept):
        wrong = b["eventRate"] < a["eventRate"] if trend == "ascending" else b["eventRate"] > a["eventRate"]
        if wrong:
            problems.append(
                Problem(
                    _(
                        "bins %(a)s and %(b)s of %(feature)s break the %(trend)s event-rate order "
                        "that was asked for (%(ra).1f %% then %(rb).1f %%)"
                    ),
                    a=a["label"],
                    b=b["label"],
                    feature=feature,
                    trend=trend,
                    ra=100 * a["eventRate"],
                    rb=100 * b["eventRate"],
                )
            )
    return problems
