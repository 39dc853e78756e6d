"""Bayesian hyperparameter search (Optuna) of the MNIST network: ISLR's knobs and more.

Each trial trains one configuration drawn from the search space below by Optuna's sampler
(TPE by default, ``--sampler gp`` for a Gaussian process), is scored on 20% of the training
images held out (validation), and is pruned when its per-epoch validation curve falls behind
the others' (median pruner). The study lives in a database, so that

    python examples/tune.py --quick                        # 8x8 digits, under a minute
    python examples/tune.py --trials 30                    # MNIST, SQLite in results/
    python examples/tune.py --trials 30 --workers 2        # two local processes, one study
    python examples/tune.py --storage postgresql://user:pw@db-host/arraygrad   # many machines

resumes where it stopped (finished trials count toward ``--trials``), and several processes or
machines can share it. Prints the best trial and the 10 best, writes ``tuning.md``,
``tuning_history.png`` and ``tuning_importances.png`` to ``--out``, then retrains the best
configuration on the training part, saves its weights (``tuning_best.npz``, ``nn.save``) and
measures its test error: the test images are used once, for that configuration only.

Needs ``pip install "arraygrad[tune]"``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

try:
    import optuna  # noqa: F401

    from nn.train.tuning import (
        Choice,
        Float,
        Int,
        SearchSpaceError,
        StorageError,
        run_search,
        storage_url,
        study_table,
        validate_space,
    )
except ImportError as error:
    sys.exit(f'examples/tune.py needs optuna: pip install "arraygrad[tune]" ({error})')

import nn
from nn.train import load_digits, load_mnist, predict, train_val_split
from nn.train.estimators import markdown_table
from nn.train.fit import error_rate
from nn.train.presets import train_config
from nn.train.tuning import plot_study

SPACES: dict[str, dict[str, Any]] = {  # edit freely: validate_space checks them first
    "mnist": {
        "layers": Int(1, 3),
        "units": Int(128, 1024, log=True),
        "dropout": Float(0.0, 0.5),
        "ridge": Float(1e-7, 1e-3, log=True),
        "lr": Float(1e-4, 3e-3, log=True),
        "optimizer": Choice("adam", "rmsprop"),
        "schedule": Choice("constant", "cosine"),
        "batch_norm": Choice(False, True),
        "epochs": 12,
        "batch_size": 128,
        "patience": 4,
    },
    "digits": {
        "layers": Int(1, 2),
        "units": Int(32, 256, log=True),
        "dropout": Float(0.0, 0.5),
        "ridge": Float(1e-7, 1e-2, log=True),
        "lr": Float(3e-4, 1e-2, log=True),
        "optimizer": Choice("adam", "rmsprop"),
        "schedule": Choice("constant", "cosine"),
        "batch_norm": Choice(False, True),
        "epochs": 15,
        "batch_size": 64,
        "patience": 4,
    },
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Bayesian hyperparameter search (Optuna).")
    parser.add_argument("--quick", action="store_true", help="scikit-learn's 8x8 digits, <1 min")
    parser.add_argument(
        "--trials",
        type=int,
        default=None,
        help="finished trials wanted (default 30, 20 with --quick)",
    )
    parser.add_argument("--workers", type=int, default=1, help="local worker processes")
    parser.add_argument(
        "--storage", default=None, help="database URL (default sqlite:///<out>/tuning.db)"
    )
    parser.add_argument("--study-name", default=None, help="default: mnist, or digits with --quick")
    parser.add_argument(
        "--timeout", type=float, default=None, help="seconds after which no new trial starts"
    )
    parser.add_argument("--sampler", choices=("tpe", "gp"), default="tpe")
    parser.add_argument("--pruner", choices=("median", "none"), default="median")
    parser.add_argument(
        "--epochs", type=int, default=None, help="epochs per trial (the space's by default)"
    )
    parser.add_argument("--subset", type=int, default=None, help="use the first N MNIST images")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--blas-threads", type=int, default=None, metavar="N")
    parser.add_argument(
        "--no-retrain", action="store_true", help="skip retraining the best and its test error"
    )
    parser.add_argument("--out", type=Path, default=Path("results"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    dataset = "digits" if args.quick else "mnist"
    space = dict(SPACES[dataset])
    if args.epochs is not None:
        space["epochs"] = args.epochs
    try:  # both checked before any data are loaded or trained
        space = validate_space(space)
        storage = storage_url(args.storage or f"sqlite:///{args.out}/tuning.db")
    except (SearchSpaceError, StorageError) as error:
        sys.exit(f"examples/tune.py: {error}")
    trials = args.trials or (20 if args.quick else 30)
    study_name = args.study_name or dataset

    x_train, y_train, x_test, y_test = load_digits() if args.quick else load_mnist(progress=False)
    if args.subset:
        x_train, y_train = x_train[: args.subset], y_train[: args.subset]
    x_fit, x_val, y_fit, y_val = train_val_split(x_train, y_train, 0.2, seed=args.seed)
    print(
        f"{dataset}: {len(x_fit)} training, {len(x_val)} validation images; study "
        f"{study_name!r} in {storage.split('@')[-1]}; {trials} trials, {args.workers} worker(s), "
        f"{os.cpu_count()} cores"
    )

    start = time.perf_counter()
    study = run_search(
        space,
        (x_fit, y_fit, x_val, y_val),
        n_trials=trials,
        storage=storage,
        study_name=study_name,
        workers=args.workers,
        sampler=args.sampler,
        pruner=args.pruner,
        seed=args.seed,
        timeout=args.timeout,
        blas_threads=args.blas_threads,
    )
    seconds = time.perf_counter() - start
    states = [t.state.name.lower() for t in study.trials]
    counts = {s: states.count(s) for s in dict.fromkeys(states)}
    best = study.best_trial
    config = best.user_attrs["config"]
    print(f"\nsearched {seconds:.0f} s this run; the study holds {len(states)} trials {counts}")
    print(
        f"best: trial {best.number}, validation error {100 * best.value:.2f}% "
        f"(after {best.user_attrs.get('epochs')} epochs)"
    )
    print("  params: " + json.dumps(best.params))
    print("  config: " + json.dumps(config))
    table = markdown_table(study_table(study, top=10))
    print("\n" + table)

    summary: dict[str, Any] = {
        "dataset": dataset,
        "study": study_name,
        "trials": len(states),
        "states": counts,
        "sampler": args.sampler,
        "workers": args.workers,
        "cores": os.cpu_count(),
        "seconds_this_run": round(seconds, 1),
        "best_trial": best.number,
        "best_val_error": best.value,
        "best_config": config,
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    if not args.no_retrain:
        retrain_start = time.perf_counter()
        model, history = train_config(
            config, x_fit, y_fit, (x_val, y_val), seed=args.seed, blas_threads=args.blas_threads
        )
        test_error = error_rate(y_test, predict(model, x_test).argmax(axis=1))
        args.out.mkdir(parents=True, exist_ok=True)
        nn.save(model, args.out / "tuning_best.npz")
        summary["test_error"] = test_error
        summary["retrain_seconds"] = round(time.perf_counter() - retrain_start, 1)
        print(
            f"\nbest configuration retrained ({len(history)} epochs, "
            f"{summary['retrain_seconds']:.0f} s): test error {100 * test_error:.2f}% "
            f"(the test set's only use); weights in {args.out / 'tuning_best.npz'}"
        )

    plots = plot_study(study, args.out)
    lines = [
        f"# Bayesian search: {dataset}, study {study_name!r}",
        "",
        f"{len(states)} trials ({', '.join(f'{n} {s}' for s, n in counts.items())}), sampler "
        f"{args.sampler}, {args.workers} worker(s) on {os.cpu_count()} cores, "
        f"{seconds:.0f} s this run, {summary['date']}.",
        "",
        f"Best: trial {best.number}, validation error {100 * best.value:.2f}%; configuration "
        f"`{json.dumps(config)}`"
        + (
            f"; retrained, test error {100 * summary['test_error']:.2f}%."
            if "test_error" in summary
            else "."
        ),
        "",
        "Top 10 (validation error; pruned trials after the complete ones):",
        "",
        table,
        "",
    ]
    (args.out / "tuning.md").write_text("\n".join(lines))
    (args.out / "tuning.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"wrote {args.out / 'tuning.md'}, tuning.json, " + ", ".join(p.name for p in plots))
    return summary


if __name__ == "__main__":
    main()
