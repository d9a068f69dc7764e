"""Kill harness for `mlff-data label` with resume (part 2 of scripts/stress).

usage: stress_kill_label.py RESULTS_DIR KILLS DEADLINE_EPOCH SEED

Labels a few hundred rattled Cu/Al cells with EMT; SIGKILLs the run at random times, then (in about half of the
iterations) runs `mlff-data repair`, and continues with `label --resume` into the same output until it completes.
After each repair the file must hold at least the journal's committed count at the kill, every structure seen
after an earlier repair, no duplicates, and rows identical to an uninterrupted run. Each completed file must equal
the uninterrupted run (same structure_indices set 0..N-1, no duplicates, identical energy/forces/stress per index)
and pass verify. Writes RESULTS_DIR/label.json.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

from stress_common import CLI, arrays_equal, cli, cli_cmd, leftovers, log, save_json

results, kills, deadline, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
work = os.path.join(results, "label")
os.makedirs(work, exist_ok=True)
N = int(os.environ.get("STRESS_LABEL_STRUCTURES", "300"))

from ase.build import bulk  # noqa: E402
from ase.io import write  # noqa: E402

inp = os.path.join(work, "input.extxyz")
atoms = []
for i in range(N):
    el = "Cu" if i % 2 == 0 else "Al"
    a = bulk(el, "fcc", a=3.6 if el == "Cu" else 4.05, cubic=True)
    if i % 3 == 0:
        a = a.repeat((2, 1, 1))
    a.rattle(0.05, seed=i)
    atoms.append(a)
write(inp, atoms, format="extxyz")
LABEL = ["label", "-i", inp, "--calculator", "emt", "--checkpoint-every", "20", "--batch-size", "4", "--no-progress"]


def read_label(path):
    import h5py
    with h5py.File(path, "r") as f:
        idx = f["labels/structure_indices"][()]
        e = f["labels/energy"][()]
        fs = f["labels/forces_splits"][()]
        forces = f["labels/forces"][()]
        stress = f["labels/stress"][()]
        smask = f["labels/stress_mask"][()]
        pos = f["structures/positions"][()]
        ps = f["structures/atomic_numbers_splits"][()]
    rows = {}
    dups = []
    for r, k in enumerate(idx.tolist()):
        if k in rows:
            dups.append(k)
        rows[k] = (e[r], forces[fs[r]:fs[r + 1]], stress[r], bool(smask[r]), pos[ps[r]:ps[r + 1]])
    return idx, rows, dups


def compare_rows(rows, ref_rows):
    bad = []
    for k, (e, f, s, m, p) in rows.items():
        if k not in ref_rows:
            bad.append(f"index {k} not in the input")
            continue
        re_, rf, rs, rm, rp = ref_rows[k]
        if not (e == re_ and arrays_equal(f, rf) and m == rm and (not m or arrays_equal(s, rs)) and arrays_equal(p, rp)):
            bad.append(f"index {k}: labels differ from the uninterrupted run (energy {e!r} vs {re_!r})")
    return bad


ref = os.path.join(work, "reference.h5")
t0 = time.monotonic()
r = cli(*LABEL, "-o", ref, timeout=600)
duration = time.monotonic() - t0
assert r.returncode == 0, r.stderr
t0 = time.monotonic()
small = os.path.join(work, "startup.h5")
r = cli("label", "-i", inp, "--calculator", "emt", "--max-structures", "4", "-o", small, "--no-progress")
startup = time.monotonic() - t0
assert r.returncode == 0, r.stderr
ref_idx, ref_rows, ref_dups = read_label(ref)
assert sorted(ref_idx.tolist()) == list(range(N)) and not ref_dups
per_structure = max(duration - startup, 0.1) / N
log(f"label: uninterrupted run of {N} structures takes {duration:.2f} s (startup {startup:.2f} s)")

counts = {"kills": 0, "completions": 0, "repairs": 0, "resumes_without_repair": 0, "killed_before_first_checkpoint": 0,
          "failures": 0, "stale_lock_after_repair": 0, "max_kills_in_one_completion": 0}
failures = []
history = []
cycle = 0
while counts["kills"] < kills:
    if time.time() > deadline:
        counts["stopped_early_at_kills"] = counts["kills"]
        log("label: time budget spent")
        break
    cycle += 1
    out = os.path.join(work, f"run_{cycle}.h5")
    floor = 0           # the committed (journal) count at the last kill: never to be lost
    seen = set()        # indices observed after a repair: never to be lost
    attempt = 0
    kills_this_cycle = 0
    log_cycle = []
    while True:
        attempt += 1
        if time.time() > deadline and attempt > 1:
            pass  # always finish a cycle (one uninterrupted resume) so it can be compared
        done_now = len(seen)
        est = startup + per_structure * max(N - max(floor, done_now), 0)
        finish = counts["kills"] >= kills or time.time() > deadline
        args = LABEL + ["-o", out] + (["--resume"] if attempt > 1 else [])
        proc = subprocess.Popen(CLI + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        delay = None
        if not finish:
            delay = rng.uniform(0.0, est * 1.05)
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=600)
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        problems = []
        step = {"attempt": attempt, "delay_s": None if delay is None else round(delay, 3), "rc": proc.returncode}
        if proc.returncode == -signal.SIGKILL:
            counts["kills"] += 1
            kills_this_cycle += 1
            journal = None
            if os.path.exists(out + ".journal"):
                with open(out + ".journal", "rb") as jf:
                    journal = json.loads(jf.readline())["num_structures"]
            elif not os.path.exists(out):
                counts["killed_before_first_checkpoint"] += 1
                journal = 0
            step["journal"] = journal
            # the state the kill left, kept until the next kill (or for good when a check fails), for reproduction
            for old_snap in [x for x in os.listdir(work) if x.startswith(f"snap_{cycle}_")]:
                os.remove(os.path.join(work, old_snap))
            snap = os.path.join(work, f"snap_{cycle}_{attempt}.h5")
            for sfx in ["", ".journal", ".lock", ".partial"]:
                if os.path.exists(out + sfx):
                    os.system(f"cp '{out + sfx}' '{snap + sfx}'")
            step["state_after_kill"] = snap
            if journal is not None:
                if journal < floor:
                    problems.append(f"journal count went down: {journal} < {floor} at the previous kill")
                floor = max(floor, journal)
            if os.path.exists(out) and rng.random() < 0.5:
                counts["repairs"] += 1
                rep = cli("repair", out)
                step["repair"] = (rep.stdout + rep.stderr).strip()
                if rep.returncode != 0:
                    problems.append(f"repair exited {rep.returncode}: {step['repair'][-400:]}")
                left = leftovers(out)
                if any(p.endswith(".lock") for p in left):
                    counts["stale_lock_after_repair"] += 1
                if [p for p in left if not p.endswith(".lock")]:
                    problems.append(f"left after repair: {[os.path.basename(p) for p in left]}")
                try:
                    idx, rows, dups = read_label(out)
                    step["count_after_repair"] = len(idx)
                    if len(idx) < floor:
                        problems.append(f"repair kept {len(idx)} structures, fewer than the journal's {floor}")
                    if dups:
                        problems.append(f"duplicate structure_indices after repair: {dups[:10]}")
                    lost = seen - set(rows)
                    if lost:
                        problems.append(f"{len(lost)} structures present after an earlier repair are gone: {sorted(lost)[:10]}")
                    problems += compare_rows(rows, ref_rows)[:10]
                    seen |= set(rows)
                except Exception as e:  # noqa: BLE001
                    problems.append(f"h5py cannot read the repaired file: {type(e).__name__}: {e}")
            else:
                counts["resumes_without_repair"] += 1
        elif proc.returncode != 0:
            problems.append(f"label exited {proc.returncode}: {err.strip()[-600:]}")
        log_cycle.append(step)
        if problems:
            counts["failures"] += 1
            saved = os.path.join(work, f"fail_{cycle}_{attempt}.h5")
            prev = [st for st in log_cycle if "state_after_kill" in st]
            if prev:
                snap = prev[-1]["state_after_kill"]
                keep = snap.replace("snap_", "failsnap_")
                for sfx in ["", ".journal", ".lock", ".partial"]:
                    if os.path.exists(snap + sfx):
                        os.system(f"cp '{snap + sfx}' '{keep + sfx}'")
                prev[-1]["state_after_kill_kept"] = keep
            for s in ["", ".journal", ".lock", ".partial"]:
                if os.path.exists(out + s):
                    os.system(f"cp '{out + s}' '{saved + s}'")
            failures.append({"cycle": cycle, "attempt": attempt, "step": step, "problems": problems, "saved_file": saved,
                             "reproduce": (f"state the last kill left: {prev[-1]['state_after_kill_kept']} (+ sidecars); copy it to X.h5 "
                                           f"(with .journal/.lock/.partial), {'then ' + cli_cmd('repair', 'X.h5') + ', ' if 'repair' in prev[-1] else ''}"
                                           f"then {cli_cmd(*LABEL, '-o', 'X.h5', '--resume')}") if prev else
                                          f"{cli_cmd(*LABEL, '-o', out)}; state after: {saved}",
                             "steps": log_cycle})
            log(f"label: FAIL cycle {cycle} attempt {attempt}: {problems}")
        if proc.returncode != -signal.SIGKILL:
            break
    # the run completed: compare with the uninterrupted one
    counts["completions"] += 1
    counts["max_kills_in_one_completion"] = max(counts["max_kills_in_one_completion"], kills_this_cycle)
    problems = []
    try:
        idx, rows, dups = read_label(out)
        if dups:
            problems.append(f"duplicates: {dups[:10]}")
        missing = sorted(set(range(N)) - set(rows))
        if missing:
            problems.append(f"gaps: {len(missing)} indices missing, e.g. {missing[:10]}")
        lost = seen - set(rows)
        if lost:
            problems.append(f"lost structures seen after repair: {sorted(lost)[:10]}")
        problems += compare_rows(rows, ref_rows)[:10]
    except Exception as e:  # noqa: BLE001
        problems.append(f"h5py cannot read the completed file: {type(e).__name__}: {e}")
    ver = cli("verify", out)
    if ver.returncode != 0:
        problems.append(f"verify exited {ver.returncode}: {(ver.stdout + ver.stderr).strip()[-400:]}")
    left = leftovers(out)
    if left:
        problems.append(f"left after completion: {[os.path.basename(p) for p in left]}")
    history.append({"cycle": cycle, "kills": kills_this_cycle, "steps": log_cycle})
    if problems:
        counts["failures"] += 1
        counts["failed_completions"] = counts.get("failed_completions", 0) + 1
        failures.append({"cycle": cycle, "final": True, "problems": problems, "saved_file": out, "steps": log_cycle,
                         "reproduce": f"{cli_cmd('verify', out)}; compare with {ref}"})
        log(f"label: FAIL cycle {cycle} (completed file): {problems}")
    else:
        for s in ["", ".journal", ".lock", ".partial"]:
            if os.path.exists(out + s):
                os.remove(out + s)
    log(f"label: cycle {cycle} completed after {kills_this_cycle} kills; {counts['kills']} kills so far")

counts["uninterrupted_duration_s"] = round(duration, 2)
counts["structures"] = N
save_json(os.path.join(results, "label.json"), {"counts": counts, "failures": failures, "history": history})
log(f"label: done: {counts}")
