"""Tree ensembles as one ONNX ``ai.onnx.ml`` ``TreeEnsemble`` node (opset 5), in double precision.

Opset 5 keeps thresholds and leaf weights as double tensors and has a set-membership mode,
so LightGBM's double thresholds and native categorical splits are written as they are;
the older ``TreeEnsembleClassifier``/``Regressor`` (opset <= 3) hold float thresholds and
add in float, which drifts from LightGBM by up to ~1e-3 on a regression forest.

Pure module: reads ``lightgbm.Booster.dump_model()`` and scikit-learn's ``tree_`` arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from onnx import helper, numpy_helper

# ONNX TreeEnsemble (ai.onnx.ml opset 5) enumerations.
BRANCH_LEQ, BRANCH_MEMBER = 0, 6
AGG_AVERAGE, AGG_SUM = 0, 1


def _(text: str) -> str:
    return text


class UnconvertibleTree(ValueError):
    """A split the ONNX graph cannot reproduce exactly (the caller turns it into an export error)."""


@dataclass
class Ensemble:
    """Nodes and leaves of every tree, in the layout of ONNX ``TreeEnsemble``."""

    n_targets: int
    roots: list[int] = field(default_factory=list)
    features: list[int] = field(default_factory=list)
    modes: list[int] = field(default_factory=list)
    splits: list[float] = field(default_factory=list)
    members: list[float] = field(default_factory=list)
    missing_true: list[int] = field(default_factory=list)
    true_ids: list[int] = field(default_factory=list)
    true_leaf: list[int] = field(default_factory=list)
    false_ids: list[int] = field(default_factory=list)
    false_leaf: list[int] = field(default_factory=list)
    leaf_targets: list[int] = field(default_factory=list)
    leaf_weights: list[float] = field(default_factory=list)

    def leaf(self, target: int, weight: float) -> tuple[int, int]:
        self.leaf_targets.append(target)
        self.leaf_weights.append(float(weight))
        return len(self.leaf_weights) - 1, 1

    def node(self, feature: int, mode: int, split: float, missing_true: bool, members=()) -> int:
        self.features.append(int(feature))
        self.modes.append(mode)
        self.splits.append(float(split))
        self.missing_true.append(int(missing_true))
        if mode == BRANCH_MEMBER:
            # Each set ends with a NaN, sets in node order (ONNX TreeEnsemble-5 spec).
            self.members.extend(float(m) for m in members)
            self.members.append(math.nan)
        for ids in (self.true_ids, self.true_leaf, self.false_ids, self.false_leaf):
            ids.append(0)
        return len(self.features) - 1

    def add_tree(self, root: Any, split_of: Any, leaf_of: Any) -> None:
        """Add one tree, nodes in pre-order (true branch first), without recursion: a
        LightGBM tree of 4,096 leaves can be 4,095 levels deep.

        ``split_of(n)`` gives ``(feature, mode, split, missing_true, members, true_child,
        false_child)`` for a split and None for a leaf; ``leaf_of(n)`` gives ``(target, weight)``.
        """
        if split_of(root) is None:
            # A tree without a split: one node whose both branches reach the same leaf.
            node = self.node(0, BRANCH_LEQ, 0.0, True)
            self.roots.append(node)
            leaf = self.leaf(*leaf_of(root))
            self.true_ids[node], self.true_leaf[node] = leaf
            self.false_ids[node], self.false_leaf[node] = leaf
            return
        stack: list[tuple[Any, int, bool]] = [(root, -1, True)]
        while stack:
            n, parent, on_true = stack.pop()
            split = split_of(n)
            if split is None:
                ref = self.leaf(*leaf_of(n))
            else:
                feature, mode, value, missing_true, members, true_child, false_child = split
                ref = (self.node(feature, mode, value, missing_true, members), 0)
                stack.append((false_child, ref[0], False))
                stack.append((true_child, ref[0], True))
            if parent < 0:
                self.roots.append(ref[0])
            elif on_true:
                self.true_ids[parent], self.true_leaf[parent] = ref
            else:
                self.false_ids[parent], self.false_leaf[parent] = ref

    def attributes(self, aggregate: int) -> dict[str, Any]:
        """The node's attributes. The post-transform stays NONE: the graph applies Sigmoid or
        Softmax as separate nodes (onnxruntime 1.32 skips LOGISTIC on one target)."""
        attrs: dict[str, Any] = {
            "n_targets": self.n_targets,
            "aggregate_function": aggregate,
            "post_transform": 0,
            "tree_roots": self.roots,
            "nodes_featureids": self.features,
            "nodes_modes": numpy_helper.from_array(np.asarray(self.modes, np.uint8), "nodes_modes"),
            "nodes_splits": numpy_helper.from_array(np.asarray(self.splits, np.float64), "nodes_splits"),
            "nodes_missing_value_tracks_true": self.missing_true,
            "nodes_truenodeids": self.true_ids,
            "nodes_trueleafs": self.true_leaf,
            "nodes_falsenodeids": self.false_ids,
            "nodes_falseleafs": self.false_leaf,
            "leaf_targetids": self.leaf_targets,
            "leaf_weights": numpy_helper.from_array(
                np.asarray(self.leaf_weights, np.float64), "leaf_weights"
            ),
        }
        if self.members:
            attrs["membership_values"] = numpy_helper.from_array(
                np.asarray(self.members, np.float64), "membership_values"
            )
        return attrs

    def to_node(self, input_name: str, output_name: str, *, aggregate: int, name: str) -> Any:
        return helper.make_node(
            "TreeEnsemble",
            [input_name],
            [output_name],
            name=name,
            domain="ai.onnx.ml",
            **self.attributes(aggregate),
        )


# --------------------------------------------------------------------------- LightGBM


def _lgb_split(node: dict[str, Any]) -> tuple | None:
    if "split_feature" not in node:
        return None
    feature = node["split_feature"]
    children = node["left_child"], node["right_child"]
    if node["decision_type"] == "==":
        # LightGBM's CategoricalDecision: the listed categories go left; NaN and negative
        # codes go right (LightGBM include/LightGBM/tree.h, Tree::CategoricalDecision).
        cats = [int(c) for c in str(node["threshold"]).split("||")]
        return (feature, BRANCH_MEMBER, 0.0, False, cats, *children)
    if node["decision_type"] != "<=":
        raise UnconvertibleTree(
            _("the LightGBM split rule %(rule)s has no ONNX equivalent") % {"rule": node["decision_type"]}
        )
    threshold = float(node["threshold"])
    missing = node.get("missing_type", "None")
    if missing == "NaN":
        nan_left = bool(node["default_left"])
    elif missing == "None":
        # NumericalDecision replaces NaN by 0.0 before comparing (tree.h).
        nan_left = threshold >= 0.0
    else:  # "Zero": a band around zero goes the default way, more than one comparison
        raise UnconvertibleTree(_("the LightGBM model treats zero as missing, which ONNX cannot reproduce"))
    return (feature, BRANCH_LEQ, threshold, nan_left, (), *children)


def lightgbm_ensemble(dump: dict[str, Any]) -> Ensemble:
    """The trees of ``Booster.dump_model()``; tree ``i`` adds to class ``i % num_class``
    (LightGBM stores the trees of one boosting round class after class)."""
    k = int(dump.get("num_tree_per_iteration", 1))
    ens = Ensemble(n_targets=k)
    for i, tree in enumerate(dump["tree_info"]):
        ens.add_tree(tree["tree_structure"], _lgb_split, lambda n, t=i % k: (t, n["leaf_value"]))
    return ens


# --------------------------------------------------------------------------- scikit-learn


def _sklearn_splits(tree: Any) -> Any:
    """``split_of`` for one scikit-learn tree: ``x <= threshold`` goes left."""
    left, right, go_left = tree.children_left, tree.children_right, getattr(tree, "missing_go_to_left", None)

    def split_of(i: int) -> tuple | None:
        if left[i] == -1:
            return None
        missing_left = bool(go_left[i]) if go_left is not None else True
        return (tree.feature[i], BRANCH_LEQ, tree.threshold[i], missing_left, (), left[i], right[i])

    return split_of


def sklearn_forest_ensemble(forest: Any, classes: list[int] | None) -> Ensemble:
    """A fitted RandomForest{Classifier,Regressor} as a SUM of leaves pre-divided by the
    number of trees (scikit-learn averages the per-tree outputs). For a classifier,
    ``classes`` are the probability columns to output; a tree's leaf gives its class share
    (DecisionTreeClassifier.predict_proba normalises ``value``). An ONNX leaf feeds one
    target, so each tree is written once per column."""
    n_trees = len(forest.estimators_)
    ens = Ensemble(n_targets=1 if classes is None else len(classes))
    for est in forest.estimators_:
        value = est.tree_.value[:, 0, :]
        if classes is None:
            weights = [value[:, 0] / n_trees]
        else:
            share = value / value.sum(axis=1, keepdims=True)
            weights = [share[:, c] / n_trees for c in classes]
        split_of = _sklearn_splits(est.tree_)
        for target, weight in enumerate(weights):
            ens.add_tree(0, split_of, lambda i, t=target, w=weight: (t, w[i]))
    return ens
