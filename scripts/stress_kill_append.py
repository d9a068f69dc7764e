"""Kill harness for `mlff-data convert --append` (part 1 of scripts/stress).

usage: stress_kill_append.py RESULTS_DIR KILLS DEADLINE_EPOCH SEED

Copies a base file, appends a few thousand structures into the copy, SIGKILLs the append at a random time spread
over the duration of one uninterrupted append, runs `mlff-data repair`, and checks that the file holds exactly the
base rows or exactly base + everything appended (every dataset, numpy equality), that `verify` passes and that no
.journal/.lock/.partial is left. Writes RESULTS_DIR/append.json.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

from stress_common import CLI, ROOT, arrays_equal, cli, cli_cmd, leftovers, log, read_all, save_json

results, kills, deadline, seed = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
work = os.path.join(results, "append")
os.makedirs(work, exist_ok=True)
sample = os.path.join(ROOT, "data", "samples", "reference_930.extxyz")
inp = os.path.join(work, "input.extxyz")
with open(inp, "wb") as out, open(sample, "rb") as s:
    data = s.read()
    for _ in range(4):
        out.write(data)
base = os.path.join(work, "base.h5")
r = cli("convert", "-i", sample, "-o", base, "-c", "gzip", "--no-progress")
assert r.returncode == 0, r.stderr
full = os.path.join(work, "full.h5")
durations = []
for _ in range(2):
    shutil.copy(base, full)
    t0 = time.monotonic()
    r = cli("convert", "-i", inp, "-o", full, "--append", "--no-progress")
    durations.append(time.monotonic() - t0)
    assert r.returncode == 0, r.stderr
duration = max(durations)
log(f"append: one uninterrupted append takes {duration:.2f} s (runs: {', '.join(f'{d:.2f}' for d in durations)})")
base_data, base_attrs = read_all(base)
full_data, full_attrs = read_all(full)
assert set(base_data) == set(full_data)

counts = {"kills": 0, "killed_before_open": 0, "killed_mid_way": 0, "killed_after_completion": 0,
          "completed_before_kill": 0, "result_base": 0, "result_full": 0, "failures": 0, "stale_lock_after_repair": 0}
failures = []
target = os.path.join(work, "target.h5")
i = 0
while counts["kills"] < kills:
    if time.time() > deadline:
        log(f"append: time budget spent after {i} iterations")
        counts["stopped_early_at"] = i
        break
    i += 1
    for p in [target] + leftovers(target):
        if os.path.exists(p):
            os.remove(p)
    shutil.copy(base, target)
    delay = rng.uniform(0.0, duration * 1.1)
    cmd = ["convert", "-i", inp, "-o", target, "--append", "--no-progress"]
    proc = subprocess.Popen(CLI + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    journal_at_kill = lock_at_kill = None
    if proc.poll() is None:
        journal_at_kill = os.path.exists(target + ".journal")
        lock_at_kill = os.path.exists(target + ".lock")
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = proc.returncode == -signal.SIGKILL
    else:
        killed = False
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    problems = []
    if not killed:
        counts["completed_before_kill"] += 1
        if proc.returncode != 0:
            problems.append(f"uninterrupted append exited {proc.returncode}: {err.strip()[-500:]}")
    else:
        counts["kills"] += 1
    saved = os.path.join(work, f"killed_{i}.h5")
    # keep the file as the kill left it (with its sidecars) for reproduction, until it passed
    shutil.copy(target, saved)
    for s in leftovers(target):
        shutil.copy(s, saved + s[len(target):])
    rep = cli("repair", target)
    if rep.returncode != 0:
        problems.append(f"repair exited {rep.returncode}: {(rep.stdout + rep.stderr).strip()[-500:]}")
    left = leftovers(target)
    if any(p.endswith(".lock") for p in left):
        counts["stale_lock_after_repair"] += 1
    if left:
        problems.append(f"left after repair: {', '.join(os.path.basename(p) for p in left)}")
    outcome = None
    try:
        data, attrs = read_all(target)
        if set(data) != set(base_data):
            problems.append(f"datasets differ: {sorted(set(data) ^ set(base_data))}")
        elif all(arrays_equal(data[k], base_data[k]) for k in data):
            outcome = "base"
        elif all(arrays_equal(data[k], full_data[k]) for k in data):
            outcome = "full"
        else:
            bad = [k for k in data if not arrays_equal(data[k], base_data[k]) and not arrays_equal(data[k], full_data[k])]
            mixed = [k for k in data if arrays_equal(data[k], base_data[k])]
            problems.append(f"rows are neither base nor base+appended: datasets matching neither: {bad}; "
                            f"matching base: {mixed}; rows: {({k: len(v) for k, v in data.items()})}")
        if outcome is not None:
            want = base_attrs if outcome == "base" else full_attrs
            for key in ("num_structures", "num_atoms"):
                if attrs.get(key) != want.get(key):
                    problems.append(f"metadata {key} = {attrs.get(key)}, expected {want.get(key)}")
    except Exception as e:  # noqa: BLE001
        problems.append(f"h5py cannot read the repaired file: {type(e).__name__}: {e}")
    ver = cli("verify", target)
    if ver.returncode != 0:
        problems.append(f"verify exited {ver.returncode}: {(ver.stdout + ver.stderr).strip()[-500:]}")
    if outcome:
        counts["result_" + outcome] += 1
    else:
        counts["unrepairable_or_wrong_rows"] = counts.get("unrepairable_or_wrong_rows", 0) + 1
    if any(p.endswith(".journal.tmp") for p in left):
        counts["journal_tmp_left_after_repair"] = counts.get("journal_tmp_left_after_repair", 0) + 1
    if killed:
        if not journal_at_kill and outcome == "base":
            counts["killed_before_open"] += 1
        elif not journal_at_kill and outcome == "full":
            counts["killed_after_completion"] += 1
        else:
            counts["killed_mid_way"] += 1
    lock_only = problems == [f"left after repair: {os.path.basename(target)}.lock"]
    if lock_only:
        counts["lock_only_failures"] = counts.get("lock_only_failures", 0) + 1
    if problems and not (lock_only and counts["lock_only_failures"] > 3):  # keep 3 examples of the stale lock alone
        counts["failures"] += 1
        failures.append({"iteration": i, "delay_s": round(delay, 3), "killed": killed, "journal_at_kill": journal_at_kill,
                         "lock_at_kill": lock_at_kill, "outcome": outcome, "problems": problems,
                         "saved_file": saved,
                         "reproduce": f"cp {saved} /tmp/t.h5; for s in .journal .lock; do [ -e {saved}$s ] && cp {saved}$s /tmp/t.h5$s; done; "
                                      f"{cli_cmd('repair', '/tmp/t.h5')}; {cli_cmd('verify', '/tmp/t.h5')}  "
                                      f"(original: cp {base} T; {cli_cmd(*cmd[:4], 'T', *cmd[5:])} & sleep {delay:.3f}; kill -9 $!)"})
        log(f"append: FAIL iteration {i}: {problems}")
    else:
        if problems:
            counts["failures"] += 1
        for p in [saved] + [saved + s for s in (".journal", ".lock", ".partial")]:
            if os.path.exists(p):
                os.remove(p)
    if i % 20 == 0:
        log(f"append: {i} iterations, {counts['kills']} kills, {counts['failures']} failures")

counts["append_duration_s"] = round(duration, 3)
counts["input_structures"] = int(len(full_data["labels/energy"]) - len(base_data["labels/energy"]))
counts["base_structures"] = int(len(base_data["labels/energy"]))
save_json(os.path.join(results, "append.json"), {"counts": counts, "failures": failures})
log(f"append: done: {counts}")
