"""Summary table of scripts/stress; exits 1 when a kill check failed, a pickle or HDF5 mutant crashed or hung the
tool, or any command leaked a stack trace. libhdf5's own crashes and hangs on HDF5 mutants are contained by the tool's
worker process (exit 65, "FILE: invalid HDF5 file: ..."): counted as clean, and shown in the "caught" column.

usage: stress_summary.py RESULTS_DIR WALL_SECONDS
"""
import json
import os
import sys

results, wall = sys.argv[1], float(sys.argv[2])


def load(name):
    p = os.path.join(results, name)
    return json.load(open(p)) if os.path.exists(p) else None


fail = []
print()
print("=" * 78)
print(f"mlff-data stress summary   (results: {results}, wall {wall:.0f} s)")
print("=" * 78)

a = load("append.json")
print("\n[1] kill -9 during convert --append, then repair")
if a is None:
    print("    did not run / did not finish")
    fail.append("append harness did not finish")
else:
    c = a["counts"]
    rows = [("append duration (uninterrupted)", f"{c['append_duration_s']} s  ({c['base_structures']} + {c['input_structures']} structures)"),
            ("kills", c["kills"]), ("  killed before open (no journal, rows = base)", c["killed_before_open"]),
            ("  killed mid-way (journal present)", c["killed_mid_way"]),
            ("  killed after completion (journal gone, rows = base+all)", c["killed_after_completion"]),
            ("completed before the kill", c["completed_before_kill"]),
            ("result = base rows exactly", c["result_base"]), ("result = base + all appended exactly", c["result_full"]),
            ("UNREPAIRABLE or rows neither base nor base+all (data loss)", c.get("unrepairable_or_wrong_rows", 0)),
            ("stale .lock left after repair", c["stale_lock_after_repair"]),
            (".journal.tmp left after repair", c.get("journal_tmp_left_after_repair", 0)),
            ("FAILED iterations (any check, incl. the sidecars above)", c["failures"])]
    if "stopped_early_at" in c:
        rows.append(("stopped early (time budget) at iteration", c["stopped_early_at"]))
    for k, v in rows:
        print(f"    {k:<58} {v}")
    if c["failures"]:
        fail.append(f"append: {c['failures']} failed iterations")
    for f in a["failures"][:10]:
        print(f"    FAIL #{f['iteration']} (delay {f['delay_s']} s, killed={f['killed']}, outcome={f['outcome']}): {'; '.join(f['problems'])}")
        print(f"       reproduce: {f['reproduce']}")
    if len(a["failures"]) > 10:
        print(f"    ... {len(a['failures']) - 10} more in {results}/append.json")

lb = load("label.json")
print("\n[2] kill -9 during label, then (repair or not) label --resume")
if lb is None:
    print("    did not run / did not finish")
    fail.append("label harness did not finish")
else:
    c = lb["counts"]
    rows = [("uninterrupted run", f"{c['uninterrupted_duration_s']} s ({c['structures']} structures)"),
            ("kills", c["kills"]), ("  of them before the first checkpoint", c["killed_before_first_checkpoint"]),
            ("completions (each compared with the uninterrupted run)", c["completions"]),
            ("most kills before one completion", c["max_kills_in_one_completion"]),
            ("kill -> repair -> resume", c["repairs"]), ("kill -> resume (no repair)", c["resumes_without_repair"]),
            ("stale .lock left after repair (not failed on here)", c["stale_lock_after_repair"]),
            ("completions NOT equal to the uninterrupted run / unreadable", c.get("failed_completions", 0)),
            ("FAILED checks (after a kill, or of a completed file)", c["failures"])]
    if "stopped_early_at_kills" in c:
        rows.append(("stopped early (time budget) at kills", c["stopped_early_at_kills"]))
    for k, v in rows:
        print(f"    {k:<58} {v}")
    if c["failures"]:
        fail.append(f"label: {c['failures']} failed checks")
    for f in lb["failures"][:12]:
        print(f"    FAIL cycle {f['cycle']}: {'; '.join(f['problems'])}")
        print(f"       saved: {f['saved_file']}; {f['reproduce']}")

caught = 0
for kind in ("hdf5", "pickle"):
    z = load(f"fuzz_{kind}.json")
    print(f"\n[3{'a' if kind == 'hdf5' else 'b'}] fuzz: {kind} mutants")
    if z is None:
        print("    did not run / did not finish")
        fail.append(f"fuzz {kind} did not finish")
        continue
    print(f"    mutants run: {z['mutants']} of {z['requested']}  (seed {z['seed_file']}, {z['seed_size']} bytes)")
    # caught: of the clean ones, exit 65: libhdf5 crashed or hung in the worker process, and the tool said so.
    print(f"    {'command':<10}{'ok':>7}{'clean':>7}{'caught':>8}{'other':>7}{'crash':>7}{'hang':>7}{'leaked':>8}{'out-left':>9}")
    for cmd, c in z["counts"].items():
        print(f"    {cmd:<10}{c['ok']:>7}{c['clean']:>7}{c.get('caught', 0):>8}{c['other']:>7}{c['crash']:>7}{c['hang']:>7}{c['leaked']:>8}{c['output_left']:>9}")
        if c["leaked"]:
            fail.append(f"{kind} {cmd}: {c['leaked']} leaked stack traces")
        if c["crash"] or c["hang"]:
            fail.append(f"{kind} {cmd}: {c['crash']} crashes, {c['hang']} hangs of the tool")
        if c["output_left"]:
            fail.append(f"{kind} {cmd}: {c['output_left']} failures left an output")
        caught += c.get("caught", 0)
    for r in z["kept"][:15]:
        cls = ", ".join(f"{o['command']}={o['class']}(rc {o['rc']}){' LEAKED' if o['leaked'] else ''}" for o in r["outcomes"])
        print(f"    kept {r['kept']}: {r['mutation']}: {cls}")
    if len(z["kept"]) > 15:
        print(f"    ... {len(z['kept']) - 15} more in {results}/fuzz_{kind}.json")

print()
if caught:
    print(f"libhdf5 crashed or hung on {caught} HDF5 mutant run(s), each contained by the worker process (exit 65);")
    print(f"the files are kept under {results}/fuzz_hdf5/caught_*.h5; reproduce: dotnet artifacts/cli/mlff-data.dll info FILE")
if fail:
    print("RESULT: FAILED")
    for f in fail:
        print(f"  - {f}")
    sys.exit(1)
print("RESULT: passed")
