"""Benchmark: importing 1,000 lm-eval result files against only parsing them.

    .venv/bin/python bench/import_results.py [--files 1000] [--repeats 3]

Files are made from the two real fixtures (lm-eval 0.4 with 86 metric rows, 0.3 with 11),
each with its own name and slightly different values so that every file is new. Import runs
through the same service as the web upload, the API and `import_results`, into the real
PostgreSQL (database `rightsize_bench`). Target: at least 200 files a second."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, machine, setup_django

FIXTURES = ROOT / "tests" / "evaluations" / "fixtures" / "lm_eval_results"


def make_files(count: int) -> list[tuple[str, bytes]]:
    v04 = json.loads((FIXTURES / "qwen2.5-1.5b_v0.4_results.json").read_text())
    v03 = json.loads((FIXTURES / "bloom-560m_xcopa_v0.3_results.json").read_text())
    files = []
    for n in range(count):
        raw = json.loads(json.dumps(v04 if n % 2 == 0 else v03))
        for values in raw["results"].values():
            for key, value in values.items():
                if isinstance(value, float) and "stderr" not in key:
                    values[key] = min(1.0, value + n * 1e-7)
        name = f"bench/{n:04d}/results_2025-01-01T00-00-{n:04d}.json"
        files.append((name, json.dumps(raw).encode()))
    return files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    setup_django()
    from django.conf import settings

    from catalog.services import local_model_register
    from evaluations.importers import parse_result_file
    from evaluations.models import EvalRun
    from evaluations.uploads import result_files_import

    qwen = local_model_register(
        key="qwen2.5-1.5b-bench", name="Qwen2.5 1.5B (bench)", family="Qwen2.5",
        organisation="Alibaba", parameters=1_540_000_000, path="Qwen/Qwen2.5-1.5B",
        provenance="benchmark fixture",
    )  # fmt: skip
    bloom = local_model_register(
        key="bloom-560m-bench", name="BLOOM 560M (bench)", family="BLOOM",
        organisation="BigScience", parameters=559_000_000, path="bigscience/bloom-560m",
        provenance="benchmark fixture",
    )  # fmt: skip
    files = make_files(args.files)
    megabytes = sum(len(data) for _, data in files) / 1e6
    parse_times, import_times = [], []
    for _ in range(args.repeats):
        started = time.perf_counter()
        for name, data in files:
            parse_result_file(name, data, max_bytes=settings.IMPORT_MAX_BYTES)
        parse_times.append(time.perf_counter() - started)

        EvalRun.objects.filter(model__in=[qwen, bloom]).delete()
        started = time.perf_counter()
        outcomes = result_files_import(files=files, imported_by=None)
        import_times.append(time.perf_counter() - started)
        failed = [o for o in outcomes if o.status != "imported"]
        if failed:
            raise SystemExit(f"{len(failed)} files not imported: {failed[0].describe()}")

    parse_s, import_s = statistics.median(parse_times), statistics.median(import_times)
    print(f"machine: {machine()}")
    print(f"{args.files} files, {megabytes:.1f} MB, {args.repeats} repeats (medians)")
    print(f"parse only: {parse_s:6.2f} s  = {args.files / parse_s:7.0f} files/s   "
          f"all: {', '.join(f'{t:.2f}' for t in parse_times)}")  # fmt: skip
    print(f"import:     {import_s:6.2f} s  = {args.files / import_s:7.0f} files/s   "
          f"all: {', '.join(f'{t:.2f}' for t in import_times)}")  # fmt: skip
    print(f"import / parse = {import_s / parse_s:.2f}; target >= 200 files/s")


if __name__ == "__main__":
    main()
