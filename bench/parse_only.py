"""The parse floor: libcst parse_module of every file actlint's prefilter keeps, on N processes."""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def parse(path: str) -> int:
    import libcst

    from actlint.prefilter import worth_parsing

    data = Path(path).read_bytes()
    if not worth_parsing(data):
        return 0
    try:
        libcst.parse_module(data)
    except Exception:
        return 0
    return 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--largest", action="store_true",
                        help="parse only the largest file the prefilter keeps (for its peak memory)")
    args = parser.parse_args()
    files = sorted(str(p) for p in Path(args.root).rglob("*.py") if p.is_file())
    if args.largest:
        from actlint.prefilter import worth_parsing

        kept = [f for f in files if worth_parsing(Path(f).read_bytes())]
        print(parse(max(kept, key=os.path.getsize)) if kept else 0)
        return
    if args.jobs <= 1:
        print(sum(map(parse, files)))
        return
    with ProcessPoolExecutor(args.jobs) as pool:
        print(sum(pool.map(parse, files, chunksize=16)))


if __name__ == "__main__":
    main()
