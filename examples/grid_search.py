"""Search ISLR's knobs of the MNIST network with scikit-learn's GridSearchCV.

The grid crosses the number of hidden layers and their units, the ridge penalty λ, the
learning rate and the dropout rate; each candidate is an ``nn.train.estimators.MLPClassifier``
trained with the book's recipe (RMSprop, batches of 128). The candidates are fitted in
parallel by joblib (``--n-jobs`` local processes; see the README for a Dask or Ray cluster),
and the table lists them from the lowest validation error. The best candidate is then
refitted on all the training images and scored on the test images.

    python examples/grid_search.py --quick      # scikit-learn's 8x8 digits, under a minute
    python examples/grid_search.py              # MNIST: 36 candidates x 30 epochs (hours)

On MNIST each candidate is validated, as in ISLR's lab, on 20% of the training images held
out (``--folds 1``); ``--folds k`` runs k-fold cross-validation instead.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV, ShuffleSplit, StratifiedKFold

from nn.train import load_digits, load_mnist
from nn.train.estimators import MLPClassifier, markdown_table, search_table

GRIDS: dict[str, dict[str, list[Any]]] = {
    "mnist": {
        "hidden_sizes": [(256,), (256, 128), (512, 256)],
        "ridge": [0.0, 1e-4, 1e-3],
        "lr": [1e-3, 3e-4],
        "dropout": [0.0, 0.3],
    },
    "digits": {
        "hidden_sizes": [(64,), (128, 64)],
        "ridge": [0.0, 1e-3],
        "lr": [1e-3, 3e-3],
        "dropout": [0.0, 0.2],
    },
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="ISLR's grid search on MNIST with arraygrad.")
    parser.add_argument("--quick", action="store_true", help="scikit-learn's 8x8 digits, <1 min")
    parser.add_argument("--subset", type=int, default=None, help="use the first N MNIST images")
    parser.add_argument("--epochs", type=int, default=None, help="default: 30 (20 with --quick)")
    parser.add_argument(
        "--folds", type=int, default=None, help="1: a 20%% hold-out (MNIST's default); k: k-fold"
    )
    parser.add_argument("--n-jobs", type=int, default=2, help="joblib workers (-1: all cores)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    if args.quick:
        x_train, y_train, x_test, y_test = load_digits()
    else:
        x_train, y_train, x_test, y_test = load_mnist()
        if args.subset:
            x_train, y_train = x_train[: args.subset], y_train[: args.subset]
    grid = GRIDS["digits" if args.quick else "mnist"]
    epochs = args.epochs or (20 if args.quick else 30)
    folds = args.folds or (3 if args.quick else 1)
    if folds == 1:
        cv: Any = ShuffleSplit(n_splits=1, test_size=0.2, random_state=args.seed)
    else:
        cv = StratifiedKFold(folds, shuffle=True, random_state=args.seed)

    estimator = MLPClassifier(epochs=epochs, random_state=args.seed)
    search = GridSearchCV(estimator, grid, cv=cv, n_jobs=args.n_jobs, verbose=1)
    start = time.perf_counter()
    search.fit(x_train, y_train)
    seconds = time.perf_counter() - start

    rows = search_table(search)
    print(f"\n{len(rows)} candidates, {epochs} epochs each, searched in {seconds:.0f} s")
    print(markdown_table(rows))
    test_error = float(np.mean(search.predict(x_test) != y_test))
    print(f"\nbest: {search.best_params_}")
    print(f"refitted on all {len(x_train)} training images: test error {100 * test_error:.2f}%")
    return rows


if __name__ == "__main__":
    main()
