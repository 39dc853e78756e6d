"""Reproduce Table 10.1 of ISLR (An Introduction to Statistical Learning, 2nd ed.) on MNIST.

Trains, with arraygrad, the book's four classifiers of handwritten digits and prints their
test errors next to the book's:

1. the MLP 784-256-128-10 (ReLU, 235,146 parameters) with ridge (L2) regularization;
2. the same MLP with dropout 0.4 and 0.3 after the two hidden layers;
3. multinomial logistic regression (a single linear layer with softmax cross-entropy);
4. linear discriminant analysis (scikit-learn; not a network);
5. with ``--tuned``, a row beyond the book: the fully connected network (no convolutions, no
   augmentation) that the Bayesian search of ``examples/tune.py`` led to, retrained on the same
   training images from its preset (``nn.train.presets.PRESETS["mnist-tuned"]``), no search.

The recipe is the book's lab: 20% of the training images held out for validation, RMSprop
with Keras's defaults (lr 1e-3, rho 0.9, eps 1e-7), batches of 128, 30 epochs.

    python examples/islr_table_10_1.py            # real MNIST (downloaded once, cached)
    python examples/islr_table_10_1.py --quick    # the pipeline on scikit-learn's 8x8 digits
    python examples/islr_table_10_1.py --tuned    # and the fifth row, the tuned network

Each training step runs under ``autograd.compile`` (recorded on the first batches, then
replayed: the same numbers as eager, faster); ``--eager`` trains without it, to compare.

It prints the number of BLAS threads it runs with first: by default the cores that other
processes leave free (``--blas-threads N`` or ``$ARRAYGRAD_BLAS_THREADS`` to choose).

Writes ``table.md``, ``table.json``, ``curves.png`` (training curves) and ``graph.svg`` (the
dropout network and its loss, one box per layer) to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim
from nn.train import (
    DataLoader,
    History,
    fit,
    limit_blas_threads,
    load_digits,
    load_mnist,
    predict,
    train_val_split,
)
from nn.train.fit import error_rate, plot_history

BOOK_TEST_ERROR = {  # ISLR Table 10.1, test error in percent
    "Neural network + ridge": 2.3,
    "Neural network + dropout": 1.8,
    "Multinomial logistic regression": 7.2,
    "Linear discriminant analysis": 12.7,
}
TUNED = "Tuned MLP (Bayesian search, --tuned)"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Reproduce ISLR Table 10.1 with arraygrad.")
    parser.add_argument("--quick", action="store_true", help="scikit-learn's 8x8 digits, <1 min")
    parser.add_argument("--subset", type=int, default=None, help="use the first N MNIST images")
    parser.add_argument(
        "--tuned", action="store_true", help="add the tuned network (nn.train.presets) as row 5"
    )
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3, help="RMSprop learning rate")
    parser.add_argument("--ridge", type=float, default=1e-4, help="λ of the L2 penalty")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--eager", action="store_true", help="train without autograd.compile (to compare)"
    )
    parser.add_argument("--out", type=Path, default=Path("results"))
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars (default: in a terminal)"
    )
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        metavar="N",
        help="threads of NumPy's BLAS (default: $ARRAYGRAD_BLAS_THREADS, else the free cores)",
    )
    return parser.parse_args(argv)


def load(args: argparse.Namespace) -> tuple[np.ndarray, ...]:
    if args.quick:
        return load_digits()
    x_train, y_train, x_test, y_test = load_mnist(progress=_progress(args))
    if args.subset:
        x_train, y_train = x_train[: args.subset], y_train[: args.subset]
    return x_train, y_train, x_test, y_test


def train_network(
    name: str, model: nn.Module, data: dict[str, Any], args: argparse.Namespace, ridge: float
) -> tuple[History, float]:
    """Train ``model`` with the book's recipe; return its history and test error."""
    optimizer = optim.RMSprop(model.parameters(), lr=args.lr, alpha=0.9, eps=1e-7)
    loader = DataLoader(data["train"], args.batch_size, shuffle=True, seed=args.seed)
    penalty = (lambda: nn.l2_penalty(model, ridge)) if ridge else None
    print(f"{name}: {model.num_parameters():,} parameters")
    history = fit(
        model,
        optimizer,
        loader,
        epochs=args.epochs,
        penalty=penalty,
        validation=data["val"],
        progress=_progress(args),
        blas_threads=args.blas_threads,
        compiled=not args.eager,
    )
    last = history.rows[-1]
    print(f"  after {len(history)} epochs: validation accuracy {last['val_accuracy']:.4f}")
    x_test, y_test = data["test"]
    test_error = error_rate(y_test, predict(model, x_test).argmax(axis=1))
    return history, test_error


def write_graph(model: nn.Module, x: np.ndarray, y: np.ndarray, path: Path) -> Path:
    """The network and its loss on a few images, one box per layer."""
    model.train()
    loss = nn.functional.cross_entropy(model(ag.tensor(x[:4])), ag.tensor(y[:4]))
    loss.backward()
    graph = ag.draw_graph(loss, collapse=True, show_values=False)
    try:
        graph.save(path)
    except ag.GraphvizNotFoundError as e:
        path = path.with_suffix(".dot")
        graph.save(path)
        print(f"  {e.args[0].splitlines()[0]} Wrote the DOT source instead.")
    return path


def markdown_table(rows: list[dict[str, Any]], dataset: str) -> str:
    lines = [
        f"| Method ({dataset}) | Test error (arraygrad) | Test error (ISLR) | Wall time |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['method']} | {r['test_error']:.2f}% | "
            + ("-" if r["book"] is None else f"{r['book']:.1f}%")
            + f" | {r['seconds']:.0f} s |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    args = parse_args(argv)
    with limit_blas_threads(args.blas_threads) as threads:  # for LDA too
        print(f"BLAS threads: {threads or 'left as they are (threadpoolctl not installed)'}")
        args.blas_threads = threads  # the networks are trained with the same count
        return run(args)


def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    args.out.mkdir(parents=True, exist_ok=True)
    ag.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load(args)
    x_fit, x_val, y_fit, y_val = train_val_split(x_train, y_train, 0.2, seed=args.seed)
    data = {"train": (x_fit, y_fit), "val": (x_val, y_val), "test": (x_test, y_test)}
    p, k = x_train.shape[1], int(y_train.max()) + 1
    dataset = "8x8 digits" if args.quick else "MNIST"
    print(f"{dataset}: {len(x_fit)} training, {len(x_val)} validation, {len(x_test)} test images")

    networks = {
        "Neural network + ridge": (nn.MLP(p, [256, 128], k), args.ridge),
        "Neural network + dropout": (nn.MLP(p, [256, 128], k, dropout=[0.4, 0.3]), 0.0),
        "Multinomial logistic regression": (nn.MLP(p, [], k), 0.0),
    }
    rows, histories = [], {}
    for name, (model, ridge) in networks.items():
        start = time.perf_counter()
        histories[name], test_error = train_network(name, model, data, args, ridge)
        rows.append(_row(name, test_error, time.perf_counter() - start, len(histories[name])))
        print(f"  test error {100 * test_error:.2f}% (ISLR: {BOOK_TEST_ERROR[name]}%)")

    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    name = "Linear discriminant analysis"
    start = time.perf_counter()
    lda = LinearDiscriminantAnalysis().fit(x_fit, y_fit)
    test_error = error_rate(y_test, lda.predict(x_test))
    rows.append(_row(name, test_error, time.perf_counter() - start, None))
    print(f"{name}: test error {100 * test_error:.2f}% (ISLR: {BOOK_TEST_ERROR[name]}%)")

    if args.tuned:
        from nn.train.presets import PRESETS, train_config

        name, config = TUNED, PRESETS["mnist-tuned"]
        print(f"{name}: {config}")
        start = time.perf_counter()
        model, histories[name] = train_config(
            config,
            *data["train"],
            data["val"],
            seed=args.seed,
            progress=_progress(args),
            blas_threads=args.blas_threads,
        )
        test_error = error_rate(y_test, predict(model, x_test).argmax(axis=1))
        rows.append(_row(name, test_error, time.perf_counter() - start, len(histories[name])))
        print(
            f"  {model.num_parameters():,} parameters, test error {100 * test_error:.2f}% "
            f"(ISLR's best: 1.8%)"
        )

    table = markdown_table(rows, dataset)
    print("\n" + table)
    (args.out / "table.md").write_text(table + "\n")
    summary = {"dataset": dataset, "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}
    (args.out / "table.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot_history(histories, args.out / "curves.png")
    dropout_net = networks["Neural network + dropout"][0]
    graph = write_graph(dropout_net, x_test, y_test, args.out / "graph.svg")
    print(f"\nwrote {args.out / 'table.md'}, table.json, curves.png, {graph.name}")
    return rows


def _progress(args: argparse.Namespace) -> bool | None:
    return False if args.no_progress else None  # None: bars in a terminal, not in logs


def _row(name: str, test_error: float, seconds: float, epochs: int | None) -> dict[str, Any]:
    return {
        "method": name,
        "test_error": round(100 * test_error, 2),
        "book": BOOK_TEST_ERROR.get(name),  # None for the tuned row: not in the book
        "seconds": round(seconds, 1),
        "epochs": epochs,
    }


if __name__ == "__main__":
    main()
