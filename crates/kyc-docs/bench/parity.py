#!/usr/bin/env python3
"""Compare kyc-docs' `quality` example output with the OpenCV peer's, image by image.

    python3 parity.py PEER.jsonl OURS.jsonl

Both files hold one JSON object per line with `path`, `laplacian_var` and `glare_fraction`.
Prints a table and exits non-zero if any image is outside the tolerance: laplacian_var
within 3 % (relative), glare_fraction within 0.002 (absolute).
"""
import json
import os
import sys


def load(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                row = json.loads(line)
                if "laplacian_var" in row:
                    out[os.path.basename(row["path"])] = row
    return out


def main():
    peer, ours = load(sys.argv[1]), load(sys.argv[2])
    names = sorted(set(peer) | set(ours))
    worst_rel, worst_abs, failures = 0.0, 0.0, 0
    print(f"{'image':28s} {'peer lap':>10s} {'ours lap':>10s} {'rel diff':>9s}   {'peer glare':>10s} {'ours glare':>10s} {'abs diff':>9s}")
    for n in names:
        if n not in peer or n not in ours:
            print(f"{n:28s} missing in {'peer' if n not in peer else 'ours'}")
            failures += 1
            continue
        p, o = peer[n], ours[n]
        rel = abs(o["laplacian_var"] - p["laplacian_var"]) / max(p["laplacian_var"], 1e-12)
        dg = abs(o["glare_fraction"] - p["glare_fraction"])
        ok = rel <= 0.03 and dg <= 0.002
        failures += not ok
        worst_rel, worst_abs = max(worst_rel, rel), max(worst_abs, dg)
        print(f"{n:28s} {p['laplacian_var']:10.4f} {o['laplacian_var']:10.4f} {100 * rel:8.3f}%   "
              f"{p['glare_fraction']:10.6f} {o['glare_fraction']:10.6f} {dg:9.6f} {'ok' if ok else 'FAIL'}")
    print(f"worst laplacian_var difference {100 * worst_rel:.3f}% (limit 3%), "
          f"worst glare_fraction difference {worst_abs:.6f} (limit 0.002), {failures} failing")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
