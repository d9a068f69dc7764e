"""Mutation fuzz of the HDF5 reader path and the pickle path (part 3 of scripts/stress).

usage: stress_fuzz.py hdf5|pickle RESULTS_DIR COUNT DEADLINE_EPOCH SEED [JOBS]

hdf5: mutants of a small valid file of ours (1-8 bit flips, mostly in the first 4 KiB; byte overwrites; truncation),
      each given to `mlff-data info`, `mlff-data verify` and `mlff-data merge` (one input).
pickle: mutants of a small valid ASE pickle (bit flips, truncation, opcode substitutions), each given to
      `mlff-data convert`.
Every command runs in a child process with a 10 s timeout and is classed: ok (exit 0), clean (exit 1 with exactly one
`error:` line, or exit 65 with exactly one `error: FILE: invalid HDF5 file: ...` line: libhdf5 crashed or hung in the
tool's worker process, which the tool caught; counted apart as "caught" too), other (any other exit < 128, or exit 1
or 65 without exactly one such line), crash (signal / exit >= 128: the tool itself died), hang (timeout). The HDF5
commands run with MLFF_DATA_WORKER_TIMEOUT=5, so a worker that hangs is killed and reported (exit 65) well within the
10 s. "leaked" counts outputs whose stderr holds a stack trace ("   at ") without -v. Crash, hang, other and leaked
mutants are kept under RESULTS_DIR/fuzz_KIND/ (caught ones as caught_N.h5, for the record). Writes
RESULTS_DIR/fuzz_KIND.json.
"""
import os
import pickle
import pickletools
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from stress_common import CLI, ROOT, cli, log, save_json

kind, results, count, deadline, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
jobs = int(sys.argv[6]) if len(sys.argv) > 6 else 2
rng = random.Random(seed)
work = os.path.join(results, f"fuzz_{kind}")
os.makedirs(work, exist_ok=True)
TIMEOUT = 10
# The tool's worker time limit for the HDF5 commands: half the harness's timeout, so a hang in libhdf5 ends as the
# tool's exit 65, and a harness timeout means the tool itself hung.
WORKER_TIMEOUT = "5"


def seed_hdf5():
    import ase.io
    src = os.path.join(work, "seed.extxyz")
    frames = ase.io.read(os.path.join(ROOT, "data", "samples", "sample.extxyz"), index=":6")
    ase.io.write(src, frames, format="extxyz")
    out = os.path.join(work, "seed.h5")
    r = cli("convert", "-i", src, "-o", out, "--no-progress")
    assert r.returncode == 0, r.stderr
    return open(out, "rb").read()


def seed_pickle():
    import ase.io
    frames = ase.io.read(os.path.join(ROOT, "data", "samples", "sample.extxyz"), index=":4")
    out = os.path.join(work, "seed.pkl")
    with open(out, "wb") as f:
        pickle.dump(frames, f)
    r = cli("convert", "-i", out, "-o", os.path.join(work, "seed_check.h5"), "--no-progress")
    assert r.returncode == 0, r.stderr
    return open(out, "rb").read()


def flip(data, n, head=None):
    b = bytearray(data)
    for _ in range(n):
        limit = min(len(b), head) if head else len(b)
        pos = rng.randrange(limit)
        b[pos] ^= 1 << rng.randrange(8)
    return bytes(b), f"{n} bit flip(s){' in the first %d bytes' % head if head else ''}"


def mutate_hdf5(data):
    r = rng.random()
    if r < 0.55:
        return flip(data, rng.randint(1, 8), head=4096)
    if r < 0.7:
        return flip(data, rng.randint(1, 8))
    if r < 0.9:
        b = bytearray(data)
        pos = rng.randrange(min(len(b), 4096) if rng.random() < 0.7 else len(b))
        n = rng.randint(1, 16)
        b[pos:pos + n] = bytes(rng.choice([0, 0xff, rng.randrange(256)]) for _ in range(n))
        return bytes(b[:len(data)]), f"{n} bytes overwritten at {pos}"
    cut = rng.randrange(len(data))
    return data[:cut], f"truncated to {cut} bytes"


OPCODES = [op for op in pickletools.opcodes]
OPCODE_BYTES = [op.code.encode("latin-1") for op in OPCODES]


def mutate_pickle(data):
    r = rng.random()
    if r < 0.4:
        return flip(data, rng.randint(1, 8))
    if r < 0.55:
        cut = rng.randrange(len(data))
        return data[:cut], f"truncated to {cut} bytes"
    ops = [pos for _, _, pos in pickletools.genops(data) if pos is not None]
    b = bytearray(data)
    n = rng.randint(1, 3)
    for _ in range(n):
        pos = rng.choice(ops)
        b[pos:pos + 1] = rng.choice(OPCODE_BYTES)
    return bytes(b), f"{n} opcode substitution(s)"


def classify(cmd_label, proc_rc, stderr, timed_out, stdout=""):
    """(class, leaked, caught): caught is an exit 65, libhdf5's crash or hang that the tool's worker process contained."""
    leaked = "   at " in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    caught = False
    if timed_out:
        c = "hang"
    elif proc_rc < 0 or proc_rc >= 128:
        c = "crash"
    elif proc_rc == 0:
        c = "ok"
    elif proc_rc == 65 and len(errors) == 1 and ": invalid HDF5 file: " in errors[0]:
        c, caught = "clean", True
    elif proc_rc == 1 and len(errors) == 1:
        c = "clean"
    elif proc_rc == 1 and cmd_label == "verify" and ": FAILED" in stdout and not stderr.strip():
        c = "clean"  # verify reports problems on stdout ("FILE: FAILED, n problem(s)") and exits 1
    else:
        c = "other"
    return c, leaked, caught


def run(args, cwd):
    env = dict(os.environ, MLFF_DATA_WORKER_TIMEOUT=WORKER_TIMEOUT) if kind == "hdf5" else None
    try:
        p = subprocess.run(CLI + args, capture_output=True, text=True, timeout=TIMEOUT, cwd=cwd, errors="replace", env=env)
        return p.returncode, p.stderr, p.stdout, False
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        return None, err, "", True


def one(i, data, how):
    d = tempfile.mkdtemp(prefix=f"m{i}_", dir=work)
    ext = "h5" if kind == "hdf5" else "pkl"
    path = os.path.join(d, f"mutant_{i}.{ext}")
    with open(path, "wb") as f:
        f.write(data)
    outcomes = []
    if kind == "hdf5":
        # merge reads stored chunks itself (H5Dread_chunk, then its own checksum and inflate), not through libhdf5.
        commands = [["info", path], ["verify", path], ["merge", "-o", os.path.join(d, "out.h5"), path, "--no-progress"]]
    else:
        commands = [["convert", "-i", path, "-o", os.path.join(d, "out.h5"), "--no-progress"]]
    for args in commands:
        rc, err, out, to = run(args, d)
        c, leaked, caught = classify(args[0], rc if rc is not None else 0, err, to, out)
        extra = []
        if args[0] in ("convert", "merge") and c != "ok" and any(os.path.exists(os.path.join(d, "out.h5" + s)) for s in ("", ".partial")):
            extra.append("output left after a failure")
        outcomes.append({"command": args[0], "class": c, "rc": rc, "leaked": leaked, "caught": caught, "extra": extra,
                         "stderr": err.strip()[-800:], "stdout": out.strip()[-400:]})
    bad = [o["class"] for o in outcomes if o["class"] in ("crash", "hang", "other")]
    flagged = bad or any(o["leaked"] or o["extra"] for o in outcomes)
    if flagged or any(o["caught"] for o in outcomes):
        label = (bad[0] if bad else "flagged") if flagged else "caught"
        kept = os.path.join(work, f"{label}_{i}.{ext}")
        shutil.copy(path, kept)
    else:
        kept = None
    shutil.rmtree(d, ignore_errors=True)
    return {"mutant": i, "mutation": how, "outcomes": outcomes, "kept": kept}


seed_bytes = seed_hdf5() if kind == "hdf5" else seed_pickle()
mutants = []
for i in range(count):
    data, how = (mutate_hdf5 if kind == "hdf5" else mutate_pickle)(seed_bytes)
    mutants.append((i, data, how))

records = []
with ThreadPoolExecutor(max_workers=jobs) as pool:
    futures = []
    for i, data, how in mutants:
        futures.append(pool.submit(lambda a: one(*a) if time.time() < deadline else None, (i, data, how)))
    for n, f in enumerate(futures):
        rec = f.result()
        if rec is not None:
            records.append(rec)
        if (n + 1) % 50 == 0:
            log(f"fuzz {kind}: {n + 1}/{count}")

counts = {}
for rec in records:
    for o in rec["outcomes"]:
        key = o["command"]
        c = counts.setdefault(key, {"ok": 0, "clean": 0, "caught": 0, "other": 0, "crash": 0, "hang": 0, "leaked": 0, "output_left": 0})
        c[o["class"]] += 1
        c["caught"] += o["caught"]
        c["leaked"] += o["leaked"]
        c["output_left"] += bool(o["extra"])
# Caught mutants are kept as files, but listed only when something else is wrong with them: they are the expected outcome.
interesting = [r for r in records if r["kept"] and not os.path.basename(r["kept"]).startswith("caught_")]
summary = {"mutants": len(records), "requested": count, "counts": counts, "seed_size": len(seed_bytes),
           "seed_file": os.path.join(work, "seed.h5" if kind == "hdf5" else "seed.pkl"), "kept": interesting}
save_json(os.path.join(results, f"fuzz_{kind}.json"), summary)
log(f"fuzz {kind}: done: {len(records)} mutants: {counts}")
