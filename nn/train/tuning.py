"""Bayesian hyperparameter search with Optuna: ISLR's knobs (layers, units per layer, ridge λ,
learning rate, dropout) and a few more (optimizer, learning-rate schedule, batch norm, epochs),
tuned on the validation error of :func:`nn.train.fit`.

    from nn.train.tuning import Choice, Float, Int, run_search, study_table

    space = {"layers": Int(1, 3), "units": Int(64, 1024, log=True), "dropout": Float(0, 0.5),
             "lr": Float(1e-4, 1e-2, log=True), "optimizer": Choice("adam", "rmsprop"),
             "epochs": 20, "patience": 4}
    study = run_search(space, (x_fit, y_fit, x_val, y_val), n_trials=30,
                       storage="sqlite:///results/tuning.db", workers=2)
    print(study.best_trial.user_attrs["config"], study.best_value)

**The space is data**: a dict from knob name to a range (:class:`Int`, :class:`Float`, log
scale optional), a :class:`Choice`, or a plain value (fixed). Knobs left out take
:data:`nn.train.presets.DEFAULTS`. :func:`validate_space` checks it all before anything
trains and names the knob at fault. ``layers`` layers each draw their own width from
``units`` (Optuna parameters ``units_1``, ``units_2`` ...).

**The search is Optuna's**: the TPE sampler by default, ``sampler="gp"`` for its Gaussian
process sampler (needs PyTorch); each trial trains one configuration
(:func:`nn.train.presets.train_config`) and reports its validation error after every epoch
through ``fit``'s ``on_epoch_end`` hook, so that a pruner (``MedianPruner`` by default) stops
a trial whose curve lags behind the others'. ``patience`` adds early stopping. A trial's value
is the validation error of the weights it ends with (its best epoch's, with ``patience``).

**The storage is a database** (Optuna's RDB storage through SQLAlchemy): SQLite by default,
``sqlite:///results/tuning.db``, opened with a lock timeout so that several local worker
processes can share it; PostgreSQL (``postgresql://user:password@host/db``, with
``psycopg2-binary``) for many machines. The study is loaded if it exists: an interrupted
search resumes, finished trials (complete or pruned) count toward ``n_trials``, and a trial
left running by a killed process is marked failed by the heartbeat and not counted. Each trial
records ``worker`` ("host:pid"), ``config`` (the configuration trained), ``epochs`` (how many
ran) and ``seconds``.

Needs ``pip install "arraygrad[tune]"`` (optuna, optuna-integration); ``import nn.train``
does not import this module.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import socket
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autograd.errors import ArraygradError

from ..mlp import ACTIVATIONS
from .presets import DEFAULTS, OPTIMIZERS, SCHEDULES, train_config

INSTALL = 'pip install "arraygrad[tune]"'
try:
    import optuna
    import sqlalchemy
    from optuna.exceptions import ExperimentalWarning
    from optuna.trial import TrialState
except ImportError as error:
    raise ImportError(f"nn.train.tuning needs optuna and optuna-integration: {INSTALL}") from error

__all__ = [
    "DEFAULT_STORAGE",
    "Choice",
    "Float",
    "Int",
    "SearchSpaceError",
    "StorageError",
    "create_study",
    "make_storage",
    "plot_study",
    "run_search",
    "sklearn_distributions",
    "study_table",
    "suggest",
    "validate_space",
]

DEFAULT_STORAGE = "sqlite:///results/tuning.db"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  # the trials that count toward n_trials
SQLITE_TIMEOUT = 60  # seconds a worker waits for another's write lock on the SQLite file
HEARTBEAT = 30  # seconds between a running trial's heartbeats (a killed worker's trial fails)


class SearchSpaceError(ArraygradError, ValueError):
    """A search space that cannot be searched; the message names the knob."""


class StorageError(ArraygradError, ValueError):
    """A storage URL that is malformed, of an unsupported kind, or unreachable."""


# ------------------------------------------------------------------------------ the space
@dataclass(frozen=True)
class Int:
    """Integers from ``low`` to ``high`` inclusive, on a log scale with ``log=True``."""

    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class Float:
    """Reals from ``low`` to ``high``, on a log scale with ``log=True``."""

    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choice:
    """One of ``choices`` (None, bools, ints, floats or strings)."""

    choices: tuple[Any, ...]

    def __init__(self, *choices: Any) -> None:
        if len(choices) == 1 and isinstance(choices[0], (list, tuple)):
            choices = tuple(choices[0])
        object.__setattr__(self, "choices", tuple(choices))


def _is_int(v: Any) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_real(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, (float, np.floating)) and math.isfinite(v))


# knob: (kind, what a value must be, check of one value)
_KNOBS: dict[str, tuple[str, str, Any]] = {
    "layers": ("int", "an int >= 0 (hidden layers)", lambda v: _is_int(v) and v >= 0),
    "units": ("int", "an int >= 1 (units per hidden layer)", lambda v: _is_int(v) and v >= 1),
    "dropout": ("float", "a rate in [0, 1)", lambda v: _is_real(v) and 0 <= v < 1),
    "ridge": ("float", "a λ >= 0", lambda v: _is_real(v) and v >= 0),
    "lr": ("float", "a learning rate > 0", lambda v: _is_real(v) and v > 0),
    "optimizer": ("choice", f"one of {sorted(OPTIMIZERS)}", lambda v: v in OPTIMIZERS),
    "schedule": ("choice", f"one of {sorted(SCHEDULES)}", lambda v: v in SCHEDULES),
    "activation": ("choice", f"one of {sorted(ACTIVATIONS)}", lambda v: v in ACTIVATIONS),
    "batch_norm": ("choice", "True or False", lambda v: isinstance(v, bool)),
    "epochs": ("int", "an int >= 1", lambda v: _is_int(v) and v >= 1),
    "batch_size": ("int", "an int >= 1", lambda v: _is_int(v) and v >= 1),
    "patience": ("int", "an int >= 1, or None", lambda v: v is None or (_is_int(v) and v >= 1)),
}
KNOBS = tuple(_KNOBS)
_DEFAULT_KNOBS = {
    "layers": len(DEFAULTS["hidden_sizes"]),
    "units": None,  # None: DEFAULTS["hidden_sizes"] as they are
    **{k: DEFAULTS[k] for k in KNOBS if k in DEFAULTS},
}


def validate_space(space: Mapping[str, Any]) -> dict[str, Any]:
    """``space`` checked and completed with the defaults; raises :class:`SearchSpaceError`
    naming the first knob that is unknown or malformed (a range upside down, a log range
    through 0, a value out of the knob's domain, a choice of the wrong kind)."""
    if not isinstance(space, Mapping):
        raise SearchSpaceError(
            f"the search space must be a dict of knob -> Int/Float/Choice/value, got "
            f"{type(space).__name__}"
        )
    unknown = [k for k in space if k not in _KNOBS]
    if unknown:
        raise SearchSpaceError(
            f"search space: unknown knob {unknown[0]!r}; the knobs are {', '.join(KNOBS)}"
        )
    for name, spec in space.items():
        kind, domain, ok = _KNOBS[name]
        where = f"search space, knob {name!r}"
        if isinstance(spec, (Int, Float)):
            if (kind != "int" and isinstance(spec, Int)) or kind == "choice":
                raise SearchSpaceError(f"{where}: {spec!r} does not fit; it must be {domain}")
            if kind == "int" and not isinstance(spec, Int):
                raise SearchSpaceError(f"{where}: takes integers, use Int(...), not {spec!r}")
            for end in (spec.low, spec.high):
                if not ok(end):
                    raise SearchSpaceError(f"{where}: bound {end!r} of {spec!r}: must be {domain}")
            if not spec.low < spec.high:
                raise SearchSpaceError(
                    f"{where}: {spec!r} needs low < high (a fixed value is given as itself)"
                )
            if spec.log and spec.low <= 0:
                raise SearchSpaceError(f"{where}: a log-scale range must start above 0: {spec!r}")
        elif isinstance(spec, Choice):
            if not spec.choices:
                raise SearchSpaceError(f"{where}: Choice() with nothing to choose")
            for c in spec.choices:
                if c is not None and not isinstance(c, (bool, int, float, str)):
                    raise SearchSpaceError(
                        f"{where}: choice {c!r}: Optuna stores None, bools, ints, floats and "
                        f"strings only"
                    )
                if not ok(c):
                    raise SearchSpaceError(f"{where}: choice {c!r} must be {domain}")
            if len(set(spec.choices)) != len(spec.choices):
                raise SearchSpaceError(f"{where}: {spec!r} repeats a choice")
        elif isinstance(spec, (list, tuple, set, dict)):
            raise SearchSpaceError(
                f"{where}: {spec!r} is ambiguous; give a range (Int/Float), Choice(...), or one "
                f"fixed value"
            )
        elif not ok(spec):
            raise SearchSpaceError(f"{where}: {spec!r} must be {domain}")
    full = {**_DEFAULT_KNOBS, **space}
    layers_vary = isinstance(full["layers"], (Int, Choice))
    if full["units"] is None and (layers_vary or full["layers"] != len(DEFAULTS["hidden_sizes"])):
        raise SearchSpaceError("search space, knob 'units': give it when 'layers' is searched")
    return full


def suggest(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """The configuration (:mod:`nn.train.presets`) of ``trial``: each searched knob drawn by
    Optuna, the fixed ones as given. ``space`` must have passed :func:`validate_space`."""

    def draw(name: str, spec: Any) -> Any:
        if isinstance(spec, Int):
            return trial.suggest_int(name, int(spec.low), int(spec.high), log=spec.log)
        if isinstance(spec, Float):
            return trial.suggest_float(name, float(spec.low), float(spec.high), log=spec.log)
        if isinstance(spec, Choice):
            return trial.suggest_categorical(name, list(spec.choices))
        return spec

    config = {k: draw(k, v) for k, v in space.items() if k not in ("layers", "units")}
    layers = int(draw("layers", space["layers"]))
    if space["units"] is None:
        config["hidden_sizes"] = list(DEFAULTS["hidden_sizes"])
    else:
        config["hidden_sizes"] = [
            int(draw(f"units_{i}", space["units"])) for i in range(1, layers + 1)
        ]
    return config


# ---------------------------------------------------------------------------- the storage
def storage_url(url: str | None) -> str:
    """``url`` checked (a database URL SQLAlchemy can open: sqlite or postgresql), before any
    training; SQLite's folder is created. Raises :class:`StorageError`."""
    url = DEFAULT_STORAGE if url is None else url
    example = "sqlite:///results/tuning.db or postgresql://user:password@host:5432/database"
    if not isinstance(url, str) or "://" not in url:
        raise StorageError(f"storage {url!r} is not a database URL; expected e.g. {example}")
    try:
        parsed = sqlalchemy.engine.make_url(url)
    except (sqlalchemy.exc.ArgumentError, ValueError) as error:
        raise StorageError(
            f"storage {url!r} is not a database URL ({error}); expected e.g. {example}"
        ) from None
    backend = parsed.get_backend_name()
    shown = parsed.render_as_string(hide_password=True)
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file::memory"):
            raise StorageError(
                f"storage {shown!r}: an in-memory SQLite database is neither shared nor kept; "
                f"give a file, sqlite:///results/tuning.db"
            )
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    elif backend == "postgresql":
        if not parsed.host or not parsed.database:
            raise StorageError(
                f"storage {shown!r}: a PostgreSQL URL needs a host and a database ({example})"
            )
    else:
        raise StorageError(
            f"storage {shown!r}: unsupported database {backend!r}; expected e.g. {example}"
        )
    if parsed.drivername == "postgresql" and not _importable("psycopg") and _importable("psycopg2"):
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; use psycopg2 when it is the one
        parsed = parsed.set(drivername="postgresql+psycopg2")
        url = parsed.render_as_string(hide_password=False)
    try:
        parsed.get_dialect().import_dbapi()  # the driver (psycopg2 for PostgreSQL) imports
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as error:
        hint = " (pip install psycopg2-binary)" if backend == "postgresql" else ""
        raise StorageError(f"storage {shown!r}: no driver for it{hint}: {error}") from None
    return url


def _importable(module: str) -> bool:
    from .extras import available

    return available(module)


def make_storage(url: str | None = None) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage at ``url`` (:func:`storage_url`), with a lock timeout for SQLite
    (several processes writing the file) and a heartbeat for running trials."""
    url = storage_url(url)
    if url.startswith("sqlite"):
        engine_kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_TIMEOUT}}
    else:
        engine_kwargs = {"pool_pre_ping": True}
    try:
        with warnings.catch_warnings():
            # heartbeat_interval is an experimental argument of RDBStorage (Optuna 5)
            warnings.simplefilter("ignore", ExperimentalWarning)
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=HEARTBEAT,
                grace_period=4 * HEARTBEAT,
            )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError) as error:
        shown = sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)
        reason = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        raise StorageError(f"storage {shown!r}: cannot open it: {reason}") from None


def make_sampler(sampler: str | Any, seed: int | None) -> Any:
    """``"tpe"`` (Optuna's default TPE), ``"gp"`` (its Gaussian-process sampler, needs
    PyTorch), or an Optuna sampler as it is."""
    if not isinstance(sampler, str):
        return sampler
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "gp":
        from .extras import available

        if not available("torch"):
            raise ImportError("sampler='gp' (Optuna's GPSampler) needs PyTorch: pip install torch")
        return optuna.samplers.GPSampler(seed=seed, warn_independent_sampling=False)
    raise ValueError(f"unknown sampler {sampler!r}; expected 'tpe' or 'gp'")


def make_pruner(pruner: str | Any) -> Any:
    """``"median"`` (``MedianPruner``: stop a trial whose validation error after an epoch is
    worse than the median of the earlier trials' at that epoch, once 5 trials finished and
    after 2 epochs), ``"none"``, or an Optuna pruner as it is."""
    if not isinstance(pruner, str):
        return pruner
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=2)
    if pruner == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"unknown pruner {pruner!r}; expected 'median' or 'none'")


def create_study(
    storage: str | None = None,
    study_name: str = "arraygrad",
    sampler: str | Any = "tpe",
    pruner: str | Any = "median",
    seed: int | None = 0,
) -> optuna.Study:
    """The study ``study_name`` in ``storage`` (created, or loaded if it exists), minimizing."""
    return optuna.create_study(
        storage=make_storage(storage),
        study_name=study_name,
        sampler=make_sampler(sampler, seed),
        pruner=make_pruner(pruner),
        direction="minimize",
        load_if_exists=True,
    )


# ------------------------------------------------------------------------------ the search
def worker_name() -> str:
    """``"host:pid"`` of this process, recorded on each trial as user attribute ``worker``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Objective:
    """The validation error of one configuration drawn from ``space``, trained on
    ``data = (x_fit, y_fit, x_val, y_val)``; reports each epoch's to the trial (pruning)."""

    space: Mapping[str, Any]
    data: tuple[Any, Any, Any, Any]
    seed: int = 0
    blas_threads: int | None = None

    def __call__(self, trial: Any) -> float:
        x_fit, y_fit, x_val, y_val = self.data
        config = suggest(trial, self.space)
        trial.set_user_attr("worker", worker_name())
        trial.set_user_attr("config", config)
        start = time.perf_counter()
        ran = [0]  # epochs run (user attributes are written once, at the end: each is a commit)

        def report(history: Any) -> None:
            row = history.rows[-1]
            ran[0] = row["epoch"]
            if not math.isfinite(row["loss"]):
                trial.set_user_attr("diverged", True)
                raise optuna.TrialPruned(f"the training loss is {row['loss']} at epoch {ran[0]}")
            trial.report(1.0 - row["val_accuracy"], row["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {ran[0]}")

        try:
            _, history = train_config(
                config,
                x_fit,
                y_fit,
                (x_val, y_val),
                seed=self.seed,
                on_epoch_end=report,
                blas_threads=self.blas_threads,
            )
        except FloatingPointError as error:  # NumPy set to raise: the run diverged
            trial.set_user_attr("diverged", True)
            raise optuna.TrialPruned(f"diverged: {error}") from None
        finally:
            trial.set_user_attr("epochs", ran[0])
            trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
        rows = history.rows
        kept = rows[history.best_epoch - 1] if history.best_epoch else rows[-1]
        trial.set_user_attr("best_epoch", kept["epoch"])
        return 1.0 - kept["val_accuracy"]


@dataclass
class _Job:
    """What a worker process needs to run its share of a search (picklable)."""

    space: dict[str, Any]
    data: tuple[Any, Any, Any, Any]
    storage: str
    study_name: str
    sampler: Any
    pruner: Any
    seed: int
    n_trials: int
    timeout: float | None
    blas_threads: int | None
    index: int = 0
    workers: int = 1


def _finished(study: optuna.Study, states: Sequence[TrialState] = FINISHED) -> int:
    return len(study.get_trials(deepcopy=False, states=tuple(states)))


def _work(job: _Job) -> int:
    """Run trials of the shared study until it holds ``n_trials`` finished ones (or the
    timeout); return how many this worker ran."""
    storage = make_storage(job.storage)
    probe = optuna.load_study(study_name=job.study_name, storage=storage)
    done = _finished(probe)
    # a sampler seed of its own for each worker and each resumption, so that no two draw the
    # same random start-up configurations
    seed = int(
        np.random.SeedSequence([job.seed, job.index, len(probe.trials)]).generate_state(1)[0]
    )
    study = optuna.load_study(
        study_name=job.study_name,
        storage=storage,
        sampler=make_sampler(job.sampler, seed),
        pruner=make_pruner(job.pruner),
    )
    remaining = job.n_trials - done
    if remaining <= 0:
        return 0
    callbacks = []
    if job.workers > 1:  # stop once the finished and the running trials make up n_trials
        states = (*FINISHED, TrialState.RUNNING)
        callbacks.append(optuna.study.MaxTrialsCallback(job.n_trials, states=states))
    before = len(study.trials)
    study.optimize(
        Objective(job.space, job.data, job.seed, job.blas_threads),
        n_trials=remaining,
        timeout=job.timeout,
        callbacks=callbacks,
        gc_after_trial=False,
    )
    return len(study.trials) - before


def run_search(
    space: Mapping[str, Any],
    data: tuple[Any, Any, Any, Any],
    *,
    n_trials: int,
    storage: str | None = None,
    study_name: str = "arraygrad",
    workers: int = 1,
    sampler: str | Any = "tpe",
    pruner: str | Any = "median",
    seed: int = 0,
    timeout: float | None = None,
    blas_threads: int | None = None,
) -> optuna.Study:
    """Search ``space`` until the study holds ``n_trials`` finished trials (complete or pruned;
    those of an earlier, interrupted run count) or ``timeout`` seconds passed; return the study.

    ``data`` = ``(x_fit, y_fit, x_val, y_val)``: every trial trains on the first pair and is
    scored on the second (the test set stays out of the search). ``workers`` > 1 starts that
    many local processes (multiprocessing, spawn), each running ``study.optimize`` on the same
    storage, with ``blas_threads`` (default: the cores divided among them) BLAS threads each.
    On many machines run this same call on each, with one PostgreSQL ``storage``. The space
    and the storage are checked before any training.
    """
    space = validate_space(space)
    if isinstance(n_trials, bool) or not _is_int(n_trials) or n_trials < 1:
        raise ValueError(f"run_search: n_trials must be an int >= 1, got {n_trials!r}")
    if isinstance(workers, bool) or not _is_int(workers) or workers < 1:
        raise ValueError(f"run_search: workers must be an int >= 1, got {workers!r}")
    make_sampler(sampler, seed)  # an unknown sampler or pruner fails here, before training
    make_pruner(pruner)
    study = create_study(storage, study_name, sampler, pruner, seed)
    remaining = n_trials - _finished(study)
    workers = max(1, min(workers, remaining))
    if workers > 1 and blas_threads is None:
        blas_threads = max(1, (os.cpu_count() or 1) // workers)
    jobs = [
        _Job(
            space,
            data,
            storage_url(storage),
            study_name,
            sampler,
            pruner,
            seed,
            n_trials,
            timeout,
            blas_threads,
            index,
            workers,
        )
        for index in range(workers)
    ]
    if workers == 1:
        _work(jobs[0])
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            pool.map(_work, jobs)
    return optuna.load_study(study_name=study_name, storage=make_storage(storage))


# ----------------------------------------------------------------------------- the results
def study_table(study: optuna.Study, top: int | None = None) -> list[dict[str, Any]]:
    """The finished trials, best first, as rows for :func:`nn.train.estimators.markdown_table`:
    the complete ones by validation error, then the pruned ones by their last reported error.
    Columns: ``rank``, ``trial``, ``state``, the configuration (``layers``, ``units``,
    ``dropout``, ``ridge``, ``lr``, ``optimizer``, ``schedule``, ``batch_norm``), ``epochs``
    (run), ``val_error``, ``seconds``, ``worker``."""

    def last(t: Any) -> float:
        return t.value if t.value is not None else t.intermediate_values[max(t.intermediate_values)]

    complete = sorted(study.get_trials(states=(TrialState.COMPLETE,)), key=lambda t: t.value)
    pruned = [t for t in study.get_trials(states=(TrialState.PRUNED,)) if t.intermediate_values]
    rows = []
    for rank, t in enumerate([*complete, *sorted(pruned, key=last)], 1):
        c = t.user_attrs.get("config", {})
        rows.append(
            {
                "rank": rank,
                "trial": t.number,
                "state": t.state.name.lower(),
                "layers": len(c.get("hidden_sizes", [])),
                "units": "-".join(str(u) for u in c.get("hidden_sizes", [])) or "-",
                **{
                    k: c[k]
                    for k in ("dropout", "ridge", "lr", "optimizer", "schedule", "batch_norm")
                    if k in c
                },
                "epochs": t.user_attrs.get("epochs", ""),
                "val_error": float(last(t)),
                "seconds": t.user_attrs.get("seconds", ""),
                "worker": t.user_attrs.get("worker", ""),
            }
        )
    return rows[:top] if top is not None else rows


def plot_study(study: optuna.Study, out: str | os.PathLike[str] = "results") -> list[Path]:
    """Optuna's matplotlib plots of the study, saved in ``out``: ``tuning_history.png`` (the
    validation error of each trial and the best so far) and ``tuning_importances.png`` (fANOVA
    parameter importances, when at least two trials completed). Returns the files written."""
    from .extras import require

    require("matplotlib", "plot_study")
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as oplt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with warnings.catch_warnings():
        # Optuna marks its matplotlib plots experimental
        warnings.simplefilter("ignore", ExperimentalWarning)
        ax = oplt.plot_optimization_history(study, target_name="validation error")
        path = out / "tuning_history.png"
        ax.figure.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
        written.append(path)
        if len(study.get_trials(states=(TrialState.COMPLETE,))) >= 2:
            ax = oplt.plot_param_importances(study, target_name="validation error")
            path = out / "tuning_importances.png"
            ax.figure.savefig(path, dpi=110, bbox_inches="tight")
            plt.close(ax.figure)
            written.append(path)
    return written


# ------------------------------------------------------------------------- scikit-learn
_SKLEARN_KNOBS = {
    "units": "hidden_sizes",
    "dropout": "dropout",
    "ridge": "ridge",
    "lr": "lr",
    "optimizer": "optimizer",
    "activation": "activation",
    "epochs": "epochs",
    "batch_size": "batch_size",
}


def sklearn_distributions(space: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna distributions of :class:`nn.train.estimators.MLPClassifier`'s parameters for the
    searched knobs of ``space``, for ``optuna_integration.OptunaSearchCV``. The estimator's
    ``hidden_sizes`` is one value there, so ``layers`` must be 1 (``units`` is that layer's
    width), and the knobs it lacks (schedule, batch norm, patience) cannot be searched.
    MLPClassifier's "sgd" is plain SGD, without the momentum of :mod:`nn.train.presets`."""
    validate_space(space)
    distributions: dict[str, Any] = {}
    for name, spec in space.items():
        searched = isinstance(spec, (Int, Float, Choice))
        if name == "layers":
            if spec != 1:
                raise SearchSpaceError(
                    "sklearn_distributions: MLPClassifier's hidden_sizes is one layer here; "
                    "set 'layers': 1"
                )
            continue
        if name not in _SKLEARN_KNOBS:
            if searched:
                raise SearchSpaceError(
                    f"sklearn_distributions: MLPClassifier has no parameter for knob {name!r}"
                )
            continue
        if not searched:
            continue
        key = _SKLEARN_KNOBS[name]
        if isinstance(spec, Int):
            distributions[key] = optuna.distributions.IntDistribution(
                spec.low, spec.high, log=spec.log
            )
        elif isinstance(spec, Float):
            distributions[key] = optuna.distributions.FloatDistribution(
                spec.low, spec.high, log=spec.log
            )
        else:
            distributions[key] = optuna.distributions.CategoricalDistribution(spec.choices)
    return distributions
