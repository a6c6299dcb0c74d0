"""Thin command-line shell over the typed functions of ``training`` (``python -m training …``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from training.config import ConfigError, DataConfig, RunConfig, load_config
from training.data.errors import DataError
from training.data.registry import DATASETS


class UsageError(ConfigError):
    """Command-line arguments that do not fit together (reported as ``error: …``, exit 2)."""


def _shorthands(args: argparse.Namespace) -> list[str]:
    """``--dataset`` / ``--data-dir`` / ``--seed`` / ``--preset`` as ``data.*`` overrides; they
    apply after ``--config`` and before ``--set`` (an explicit ``--set`` wins)."""
    out: list[str] = []
    if getattr(args, "dataset", None):
        out.append(f"data.dataset={json.dumps(args.dataset)}")
    if getattr(args, "data_dir", None):
        out.append(f"data.data_dir={json.dumps(args.data_dir)}")
    if getattr(args, "seed", None) is not None:
        out.append(f"data.seed={args.seed}")
    if getattr(args, "preset", None):
        out.append(f"data.synthetic.preset={json.dumps(args.preset)}")
    return out


def _run_config(args: argparse.Namespace) -> RunConfig:
    """The run config every subcommand shares: ``--config`` file, shorthands, ``--set``."""
    return load_config(args.config, _shorthands(args) + list(args.set))


def _data_config(args: argparse.Namespace) -> DataConfig:
    return _run_config(args).data


def cmd_stats(args: argparse.Namespace) -> int:
    from training.protocol.stats import dataset_stats

    print(json.dumps(dataset_stats(_data_config(args)), indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluation.bundle import evaluate_baseline, evaluate_bundle

    if args.bundle and args.baseline:
        raise UsageError("evaluate takes --bundle DIR or --baseline NAME, not both")
    if args.bundle:
        if args.config:
            raise UsageError(
                "evaluate --bundle takes its config from the bundle's manifest; "
                "use --set (or --data-dir) to change it, not --config"
            )
        out = evaluate_bundle(
            Path(args.bundle), role=args.split, overrides=_shorthands(args) + list(args.set)
        )
    elif args.baseline:
        cfg = _run_config(args)
        if (
            not args.config
            and not args.dataset
            and not any(s.strip().startswith("data.dataset") for s in args.set)
        ):
            raise UsageError("evaluate --baseline needs --dataset (or a --config naming one)")
        out = evaluate_baseline(args.baseline, cfg.data, role=args.split)
    else:
        raise UsageError("evaluate needs --bundle DIR or --baseline popularity|random")
    text = json.dumps(out, indent=2)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


def cmd_baselines(args: argparse.Namespace) -> int:
    from training.reporting.baselines_table import baselines_table

    doc = baselines_table(
        datasets=args.datasets,
        data_root=Path(args.data_root),
        seeds=args.seeds,
        out_stem=Path(args.out),
        base=_data_config(args),
    )
    print(f"wrote {args.out}.json and {args.out}.md ({len(doc['rows'])} rows)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.pipeline import train_to_bundle

    path = train_to_bundle(_run_config(args), Path(args.out))
    if path is not None:
        print(f"bundle written to {path}")
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    from training.experiment import run_experiment

    doc = run_experiment(
        Path(args.config),
        overrides=args.set,
        out_stem=Path(args.out) if args.out else None,
        cached_only=args.cached_only,
    )
    print(f"{len(doc['rows'])} rows")
    return 0


def cmd_frontier(args: argparse.Namespace) -> int:
    from training.frontier.run import run_frontier

    doc = run_frontier(
        Path(args.config),
        overrides=args.set,
        cached_only=args.cached_only,
        only=args.only.split(",") if args.only else None,
        only_seeds=args.seeds,
        skip_references=args.skip_references,
        jobs=args.jobs,
        restore_from=Path(args.restore_from) if args.restore_from else None,
    )
    n = sum(len(r) for r in doc["variants"].values())
    state = "complete" if doc["complete"] else "partial"
    print(f"{len(doc['references'])} references, {n} runs ({state})")
    return 0


def cmd_pareto(args: argparse.Namespace) -> int:
    from training.reporting.learning_curves import render_learning_curves
    from training.reporting.pareto import render_pareto

    for results in args.results:
        print(render_pareto(Path(results)))
        print(render_learning_curves(Path(results)))
    return 0


def cmd_frontier_claims(args: argparse.Namespace) -> int:
    from training.reporting.frontier_claims import frontier_claims, write_frontier_claims

    doc = frontier_claims([Path(r) for r in args.results])
    write_frontier_claims(doc, Path(args.out))
    print(f"wrote {args.out}.json and {args.out}.md")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from training.reporting.report import ReportError, render_report

    out = None if args.beside else Path(args.out)
    try:
        for results in args.results:
            for png in render_report(Path(results), out):
                print(png)
    except ReportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def cmd_claims(args: argparse.Namespace) -> int:
    from training.reporting.claims import mirec_claims, ssl_claims, write_claims

    main = Path(args.results)
    if args.kind == "ssl":
        doc = ssl_claims(
            main,
            Path(args.sweeps) if args.sweeps else None,
            Path(args.tuning) if args.tuning else None,
            Path(args.logq) if args.logq else None,
        )
    else:
        doc = mirec_claims(
            main,
            Path(args.records) if args.records else None,
            Path(args.tuning) if args.tuning else None,
        )
    write_claims(doc, Path(args.out))
    print(f"wrote {args.out}.md")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from training.demo import DEMO_CONFIG, run_demo

    return run_demo(
        port=args.port,
        serve_after=not args.no_serve,
        config=Path(args.config) if args.config else DEMO_CONFIG,
        overrides=list(args.set),
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be in 1..65535, got {port}")
    return port


def _jobs(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def config_args(sp: argparse.ArgumentParser, required: bool = False, what: str = "") -> None:
        sp.add_argument("--config", required=required, default=None, help=what or "run config TOML")
        sp.add_argument(
            "--set",
            action="append",
            default=[],
            metavar="SECTION.KEY=VALUE",
            help="override a config key (repeatable; unknown keys are an error)",
        )

    def data_args(sp: argparse.ArgumentParser) -> None:
        config_args(sp)
        sp.add_argument(
            "--dataset",
            default=None,
            choices=list(DATASETS),
            help="= --set data.dataset=…",
        )
        sp.add_argument("--data-dir", default=None, help="= --set data.data_dir=…")
        sp.add_argument("--seed", type=int, default=None, help="split / synthetic seed")
        sp.add_argument("--preset", default=None, help="synthetic preset (tiny, small, large)")

    sp = sub.add_parser("stats", help="print dataset statistics as JSON")
    data_args(sp)
    sp.set_defaults(func=cmd_stats)

    sp = sub.add_parser("evaluate", help="evaluate a bundle or a baseline with full ranking")
    sp.add_argument("--bundle", default=None)
    sp.add_argument("--baseline", choices=["popularity", "random"], default=None)
    data_args(sp)
    sp.add_argument("--split", choices=["test", "valid"], default="test")
    sp.add_argument("--out", default=None)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser(
        "baselines", help="popularity and random on several datasets -> results table"
    )
    config_args(sp, what="run config TOML whose [data] section applies to every dataset")
    sp.add_argument(
        "--datasets", nargs="+", choices=list(DATASETS), default=["ml-1m", "ml-100k", "synthetic"]
    )
    sp.add_argument("--data-root", default="../shared/data")
    sp.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    sp.add_argument("--out", default="docs/results/baselines")
    sp.set_defaults(func=cmd_baselines)

    sp = sub.add_parser("train", help="train a model and write a bundle")
    config_args(sp)
    sp.add_argument("--out", required=True)
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("experiment", help="run a table of variants x seeds (resumable)")
    config_args(sp, required=True, what="experiment TOML")
    sp.add_argument("--out", default=None, help="results path stem (default: from the config)")
    sp.add_argument(
        "--cached-only", action="store_true", help="train nothing; tabulate the cached runs"
    )
    sp.set_defaults(func=cmd_experiment)

    sp = sub.add_parser(
        "frontier", help="references + variants x seeds with trade-off curves (resumable)"
    )
    sp.add_argument("--config", required=True)
    sp.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    sp.add_argument(
        "--cached-only", action="store_true", help="train nothing; tabulate the cached runs"
    )
    sp.add_argument("--only", default=None, help="train only these variants (comma-separated)")
    sp.add_argument("--seeds", nargs="+", type=int, default=None, help="train only these seeds")
    sp.add_argument("--skip-references", action="store_true", help="compute no reference")
    sp.add_argument(
        "--jobs",
        type=_jobs,
        default=1,
        help="train this many runs at a time, one process each (default 1; one per core fits)",
    )
    sp.add_argument(
        "--restore-from",
        default=None,
        metavar="RESULTS.json",
        help="first put the runs of this results document (written by this file) in the cache",
    )
    sp.set_defaults(func=cmd_frontier)

    sp = sub.add_parser("pareto", help="frontier JSON -> (overall, tail) HR@50 Pareto figure")
    sp.add_argument("--results", nargs="+", required=True, metavar="FILE.json")
    sp.set_defaults(func=cmd_pareto)

    sp = sub.add_parser("tailclaims", help="frontier JSONs -> the tail-at-budget claims page")
    sp.add_argument("--results", nargs="+", required=True, metavar="FILE.json")
    sp.add_argument("--out", required=True, help="output path stem (.json + .md)")
    sp.set_defaults(func=cmd_frontier_claims)

    sp = sub.add_parser("report", help="results files -> head/tail bars and exposure curves (PNG)")
    sp.add_argument("--results", nargs="+", required=True, metavar="FILE.json")
    sp.add_argument("--out", default="docs/results/figures", help="folder for the PNGs")
    sp.add_argument("--beside", action="store_true", help="write each file's PNGs next to it")
    sp.set_defaults(func=cmd_report)

    sp = sub.add_parser("claims", help="answer the papers' claims from results files")
    sp.add_argument("kind", choices=["ssl", "mirec"])
    sp.add_argument("--results", required=True, help="the main results JSON")
    sp.add_argument("--sweeps", default=None, help="ssl: the sweeps results JSON")
    sp.add_argument("--tuning", default=None, help="the tuning results JSON")
    sp.add_argument("--logq", default=None, help="ssl: the logQ-baseline results JSON")
    sp.add_argument("--records", default=None, help="mirec: the experiment cache (loss curves)")
    sp.add_argument("--out", required=True, help="output path stem (.json + .md)")
    sp.set_defaults(func=cmd_claims)

    sp = sub.add_parser("demo", help="the embedded default end to end")
    config_args(sp, what="demo run config (default configs/demo.toml)")
    sp.add_argument(
        "--port",
        type=_port,
        default=None,
        help="service port (default: the PORT environment variable, else 8000)",
    )
    sp.add_argument("--no-serve", action="store_true", help="stop after training the bundle")
    sp.set_defaults(func=cmd_demo)
    return p


def _user_errors() -> tuple[type[BaseException], ...]:
    """Errors that mean bad input (config, data, bundle, results files), not a bug. Modules
    are looked up only if already imported: the CLI does not load torch to report a bad key."""
    types: list[type[BaseException]] = [ConfigError, DataError]
    for module, name in (
        ("models.bundle", "BundleError"),
        ("training.reporting.report", "ReportError"),
    ):
        m = sys.modules.get(module)
        if m is not None and isinstance(getattr(m, name, None), type):
            types.append(getattr(m, name))
    return tuple(types)


def _describe(e: BaseException) -> str:
    if isinstance(e, OSError) and e.filename is not None:
        return f"{e.filename}: {e.strerror or e}"
    if isinstance(e, json.JSONDecodeError):
        return f"not JSON: {e}"
    return str(e)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "demo" and args.port is None:
        try:
            args.port = _port(os.environ.get("PORT", "8000"))
        except argparse.ArgumentTypeError as e:
            print(f"error: PORT: {e}", file=sys.stderr)
            return 2
    try:
        return int(args.func(args))
    except (ConfigError, DataError, OSError, json.JSONDecodeError) as e:
        print(f"error: {_describe(e)}", file=sys.stderr)
        return 2
    except ValueError as e:
        if isinstance(e, _user_errors()):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
