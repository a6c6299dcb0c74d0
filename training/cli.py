"""Thin command-line shell over the typed functions of ``training`` (``python -m training …``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from training.config import ConfigError, DataConfig, load_config
from training.data.errors import DataError


def _data_config(args: argparse.Namespace) -> DataConfig:
    raw: dict[str, Any] = {"dataset": args.dataset, "seed": args.seed}
    if args.data_dir:
        raw["data_dir"] = args.data_dir
    if getattr(args, "preset", None):
        raw["synthetic"] = {"preset": args.preset}
    return DataConfig.model_validate(raw)


def cmd_stats(args: argparse.Namespace) -> int:
    from training.protocol.stats import dataset_stats

    print(json.dumps(dataset_stats(_data_config(args)), indent=2))
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from training.evaluation.bundle import evaluate_baseline, evaluate_bundle

    if args.bundle:
        out = evaluate_bundle(Path(args.bundle), role=args.split)
    elif args.baseline:
        if not args.dataset:
            raise SystemExit("evaluate --baseline needs --dataset")
        out = evaluate_baseline(args.baseline, _data_config(args), role=args.split)
    else:
        raise SystemExit("evaluate needs --bundle DIR or --baseline popularity|random")
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
    )
    print(f"wrote {args.out}.json and {args.out}.md ({len(doc['rows'])} rows)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from training.pipeline import train_to_bundle

    cfg = load_config(args.config, args.set)
    path = train_to_bundle(cfg, Path(args.out))
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
    from training.demo import run_demo

    return run_demo(serve_after=not args.no_serve)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m training", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def data_args(sp: argparse.ArgumentParser, required: bool) -> None:
        sp.add_argument(
            "--dataset",
            required=required,
            choices=["synthetic", "ml-1m", "ml-100k", "bookcrossing", "csv"],
        )
        sp.add_argument("--data-dir", default=None)
        sp.add_argument("--seed", type=int, default=0, help="split / synthetic seed")
        sp.add_argument("--preset", default=None, help="synthetic preset (tiny, small, large)")

    sp = sub.add_parser("stats", help="print dataset statistics as JSON")
    data_args(sp, required=True)
    sp.set_defaults(func=cmd_stats)

    sp = sub.add_parser("evaluate", help="evaluate a bundle or a baseline with full ranking")
    sp.add_argument("--bundle", default=None)
    sp.add_argument("--baseline", choices=["popularity", "random"], default=None)
    data_args(sp, required=False)
    sp.add_argument("--split", choices=["test", "valid"], default="test")
    sp.add_argument("--out", default=None)
    sp.set_defaults(func=cmd_evaluate)

    sp = sub.add_parser(
        "baselines", help="popularity and random on several datasets -> results table"
    )
    sp.add_argument("--datasets", nargs="+", default=["ml-1m", "ml-100k", "synthetic"])
    sp.add_argument("--data-root", default="../shared/data")
    sp.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    sp.add_argument("--out", default="docs/results/baselines")
    sp.set_defaults(func=cmd_baselines)

    sp = sub.add_parser("train", help="train a model and write a bundle")
    sp.add_argument("--config", default=None)
    sp.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    sp.add_argument("--out", required=True)
    sp.set_defaults(func=cmd_train)

    sp = sub.add_parser("experiment", help="run a table of variants x seeds (resumable)")
    sp.add_argument("--config", required=True)
    sp.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
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
    sp.set_defaults(func=cmd_frontier)

    sp = sub.add_parser("pareto", help="frontier JSON -> (overall, tail) HR@50 Pareto figure")
    sp.add_argument("--results", nargs="+", required=True, metavar="FILE.json")
    sp.set_defaults(func=cmd_pareto)

    sp = sub.add_parser("frontier-claims", help="frontier JSONs -> the tail-at-budget claims page")
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
    sp.add_argument("--no-serve", action="store_true", help="stop after training the bundle")
    sp.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
