"""Turns .build/faults/results.jsonl into docs/reliability.md (run by scripts/faults)."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
commit = sys.argv[2] if len(sys.argv) > 2 else "?"
by_test = {}
for row in rows:
    by_test.setdefault(row["test"], row)

TESTS = [
    ("crash-sqlite", "1. Crash (SQLite)",
     "Two schedulers, a custodian and a worker; one-second jobs; kill -9 the lease holder at a random moment "
     "1–4 s after a standby registered, once per trial; lease 3 s.",
     lambda r: f"{r['trials']} trials with {r['jobs']} jobs: worst takeover {r['worst_takeover_s']} s "
               f"(median {r['median_takeover_s']} s); {r['slots']} slots, {r['duplicates']} with two runs, "
               f"{r['lost']} without a run or a recorded fate"),
    ("crash-mongodb", "1. Crash (MongoDB protocol)", "The same on SecantusDB.",
     lambda r: f"{r['trials']} trials with {r['jobs']} jobs: worst takeover {r['worst_takeover_s']} s "
               f"(median {r['median_takeover_s']} s); {r['slots']} slots, {r['duplicates']} with two runs, "
               f"{r['lost']} without a run or a recorded fate"),
    ("pause", "2. Pause",
     "SIGSTOP the holder of 20 one-second jobs until the standby has taken over and fired, 2 s more, then "
     "SIGCONT for 5 s.",
     lambda r: f"{r['slots']} slots, {r['duplicates']} duplicated, {r['lost']} lost; {r['run_actions']} run "
               f"actions delivered, {r['repeated_actions']} of them twice"),
    ("broker-restart", "3. Broker restart",
     "rabbitmqctl stop and start while 20 one-second jobs fire and the worker reports.",
     lambda r: f"{r['runs']} runs: {r['completed']} completed, {r['skipped']} skipped while the broker was away "
               f"(a recorded fate), {r['stuck']} stuck, {r['other']} other; {r['duplicates']} duplicate and "
               f"{r['lost']} lost slots"),
    ("broker-kill", "3. Broker crash",
     "SIGKILL the broker's VM, start it 3 s later, under the same load.",
     lambda r: f"{r['runs']} runs: {r['completed']} completed, {r['skipped']} skipped, {r['stuck']} stuck, "
               f"{r['other']} other; {r['duplicates']} duplicate and {r['lost']} lost slots"),
    ("database-outage", "4. Database outage",
     "SecantusDB on an on-disk directory stopped for 10 s and started again under api, scheduler, custodian "
     "and a worker; the api asked every 0.5 s meanwhile.",
     lambda r: f"api answers during the outage {r['api_answers']} (status: count), {r['api_non_json_errors']} "
               f"without a JSON error; outage logged {r['outage_lines']} times and its end {r['recovery_lines']} "
               f"times (api, scheduler, custodian... as listed); {r['stuck']} runs stuck; {r['duplicates']} "
               f"duplicate and {r['lost']} lost slots"),
    ("messages", "5. Messages",
     "A shuffled flood of stale and future attempts, statuses a worker may not send, other jobs' names, unknown "
     "and malformed run ids, broken JSON, empty and binary bodies and 1 MiB of junk, with valid completions and "
     "heartbeats among them, then `running` for runs already completed.",
     lambda r: f"{r['bad']} bad and {r['valid']} valid messages: {r['targets_completed']} targets completed, "
               f"{r['bystanders_changed']} bystander runs changed; both queues drained"),
    ("http-fuzz", "6. Parser fuzzing",
     "libFuzzer + ASan on the parser from the committed corpus, each input parsed whole and split.",
     lambda r: f"{r['seconds']} s, {r['executions']} executions, coverage {r['coverage']}, crashes: {r['crashes']}"),
    ("http-idle-slowloris", "6. Idle and slowloris",
     "500 idle connections and 50 clients sending a header byte now and then, while a client asks 20 times.",
     lambda r: f"worst answer {r['worst_ms']} ms (median {r['median_ms']} ms)"),
    ("http-oversized", "6. Oversized requests",
     "A 40 KB header, 200 header fields, a 5 MB Content-Length and 1 MiB + 1 byte of chunks.",
     lambda r: f"statuses {r['statuses']}"),
    ("schemathesis", "6. Schemathesis",
     "schemathesis 4.32.5 on `/api/openapi.json`: every check but one, 100 examples per operation, seed 1, "
     "a key with every scope. Left out: `positive_data_acceptance`, which expects every schema-valid request to "
     "succeed, while the API also refuses what JSON Schema cannot state (an unknown IANA zone, a cron expression "
     "that cannot fire, an `interval` beside `cron`, a cursor it did not give out) with a 400 naming the field.",
     lambda r: f"{r['summary']}; {r['server_errors']} server errors, {r['schema_violations']} schema violations"),
    ("auth", "7. Auth",
     "The JWT matrix and API keys against the running api binary: alg none, HS256 keyed with the public key, "
     "mixed algorithms, tampering, a foreign key under a known kid, unknown kids, expiry and not-before, a "
     "missing exp, wrong issuer and audience, missing scopes, garbage, an unknown API key, under-scoped writes.",
     lambda r: f"{r['credentials_refused']} credentials refused, {r['failures']} answered otherwise than 401/403 "
               f"with a JSON error; genuine ones {r['accepted']}"),
]

out = ["# Reliability", ""]
out.append(f"One full run of `scripts/faults` at commit `{commit}` on this 2-core Debian 12 machine, against the "
           "real daemons (debug build), a private RabbitMQ and SecantusDB. `.ci/run` runs the same tests at a quick "
           "size (fewer trials and jobs) on every submission; the fuzzing and schemathesis run only here.")
out.append("")
out.append("| test | what was tried | result |")
out.append("|---|---|---|")
for key, name, tried, result in TESTS:
    row = by_test.get(key)
    summary_row = by_test.get("fault-tests")
    failed = summary_row is not None and summary_row.get("rc", 0) != 0
    try:
        text = result(row) if row else ("**no result: the test failed before reporting** (see below)" if failed else "not run")
    except KeyError as missing:
        text = f"incomplete result ({missing})"
    out.append(f"| {name} | {tried} | {text} |")
summary = by_test.get("fault-tests")
if summary:
    out.append("")
    out.append(f"Test runner: `{summary['summary']}` (exit {summary['rc']}).")
out.append(open(sys.argv[3]).read() if len(sys.argv) > 3 else "")
print("\n".join(out))
