#!/usr/bin/env bash
# Property-based API testing with schemathesis against the real `traceline` binary, driven by the OpenAPI
# document the binary serves at /openapi.json.
#
# Starts the server on a fresh SQLite database (or on API_FUZZ_DATABASE_URL, e.g. an empty PostgreSQL database) on a
# free port, creates an org, a read+write reviewer key and a
# redeemed candidate, then runs schemathesis: every operation with the reviewer's key, the routes a candidate may
# call with its session token (completing last, since it closes the session for writing), and the public ones. Checks: no 5xx, statuses / content types / bodies as documented.
# Exits non-zero on any failure. The venv lives under target/ and is reused between runs.
#
#   .ci/api-fuzz.sh                      # the CI budget
#   API_FUZZ_MAX_EXAMPLES=200 .ci/api-fuzz.sh   # a longer run
#   API_FUZZ_DATABASE_URL=postgres://postgres@127.0.0.1:5432/empty .ci/api-fuzz.sh   # on PostgreSQL
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Every Python package of the venv is pinned (schemathesis and all it pulls in): a dependency resolved afresh on
# each machine made runs differ between machines. The venv is named after the file's hash, so a change rebuilds it.
REQUIREMENTS=.ci/api-fuzz-requirements.txt
MAX_EXAMPLES="${API_FUZZ_MAX_EXAMPLES:-25}"
SEED="${API_FUZZ_SEED:-20260401}"
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

target_dir="$(realpath -m "${CARGO_TARGET_DIR:-target}")"
venv="$target_dir/api-fuzz/venv-$(sha256sum "$REQUIREMENTS" | cut -c1-12)"
if [[ ! -x "$venv/bin/schemathesis" ]]; then
    echo "creating $venv from $REQUIREMENTS"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$REQUIREMENTS"
fi

cargo build --quiet --locked -p traceline_cli --bin traceline
traceline="$target_dir/debug/traceline"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

database="${API_FUZZ_DATABASE_URL:-$work/fuzz.db}"
case "$database" in
    postgres://* | postgresql://*) backend=postgres ;;
    *) backend=sqlite ;;
esac
json_field() {
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

reviewer_key="$("$traceline" org create --name "API fuzz" --database-url "$database" | json_field apiKey)"

# Rate limits off: schemathesis sends far more than 300 requests a minute from one address, and invents keys by
# the hundred (redeem would answer 429 after the 20th failed credential, and every route after it).
TRACELINE_IP_RATE_PER_MIN=0 TRACELINE_INGEST_RATE_PER_MIN=0 TRACELINE_AUTH_FAILURES_PER_10MIN=0 RUST_LOG=warn \
    "$traceline" serve --bind 127.0.0.1:0 --database-url "$database" >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
base=""
for _ in $(seq 100); do
    base="$(sed -n 's/^traceline listening on \(http:[^ ]*\)$/\1/p' "$work/stdout")"
    [[ -n "$base" ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; exit 1; }
    sleep 0.1
done
[[ -n "$base" ]] || { echo "the server did not announce its address" >&2; exit 1; }
echo "traceline serving on $base ($backend)"

# The candidate belongs to an org of its own: the reviewer's run deletes and revokes what it finds in its org
# (schemathesis carries ids from responses into later requests), which must not take the candidate's key with it.
candidate_org_key="$("$traceline" org create --name "API fuzz candidates" --database-url "$database" |
    json_field apiKey)"
call() {
    curl --silent --show-error --fail-with-body -X "$1" "$base$2" \
        -H "Authorization: Bearer $candidate_org_key" -H 'Content-Type: application/json' --data "$3"
}
assessment_id="$(call POST /v1/assessments '{"title": "Fuzz", "role": "Any", "taskBrief": "Fuzz it"}' |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["assessment"]["id"])')"
candidate_key="$(call POST "/v1/assessments/$assessment_id/keys" '{"count": 1}' |
    "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["keys"][0]["key"])')"
session_token="$(curl --silent --show-error --fail-with-body -X POST "$base/v1/candidate/redeem" \
    -H 'Content-Type: application/json' --data "{\"key\": \"$candidate_key\"}" | json_field sessionToken)"

# Which operations each credential can reach, read from the document's own access rules (`x-access`), so a new
# route is fuzzed by the right caller without editing this script. The public redeem route answers 401 to every
# key schemathesis can invent, so it is fuzzed on its own, without credentials.
operations() {
    curl --silent --show-error --fail "$base/openapi.json" | "$venv/bin/python" -c '
import json, sys
who = sys.argv[1]
ids = []
for operations in json.load(sys.stdin)["paths"].values():
    for operation in operations.values():
        if not isinstance(operation, dict) or "operationId" not in operation:
            continue
        access = operation.get("x-access", "")
        if who == "reviewer":
            # The reviewer key has the write scope, which the admin routes (users, API keys) accept too.
            chosen = access.startswith(("reviewer", "shared", "admin")) or (access == "public" and operation["operationId"] != "redeemKey")
        elif who == "candidate":
            # Completing closes the session for writing (spec §10.1): it gets a run of its own, last.
            chosen = (access == "candidate" or access.startswith("shared")) and operation["operationId"] != "completeSession"
        elif who == "completing":
            chosen = operation["operationId"] == "completeSession"
        else:
            chosen = access == "public"
        if chosen:
            ids.append(operation["operationId"])
print("^(" + "|".join(sorted(ids)) + ")$")
' "$1"
}

# A run whose every answer is 401/403 tests nothing but the auth check; for the credentialed runs that fails.
cat >"$work/authenticated.toml" <<'TOML'
[warnings]
fail-on = ["missing_auth"]
TOML

# Run from the temporary directory, so schemathesis's example cache goes with it. One worker: with two threads,
# Hypothesis's lambda-source cache, which is not thread-safe, failed a run with a KeyError inside the tool
# (reported as a flaky test case), whatever the server answered.
# The stateful phase follows the document's links (a created assessment, key or session into its routes); the
# public routes have none, so their run leaves it out.
fuzz() {
    local name=$1 config=$2 phases=$3
    shift 3
    (cd "$work" && "$venv/bin/schemathesis" ${config:+--config-file "$config"} run "$base/openapi.json" \
        --checks "$CHECKS" \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --phases "$phases" \
        --workers 1 \
        --request-timeout 10 \
        --suppress-health-check too_slow,filter_too_much \
        --report junit,har --report-dir "$target_dir/api-fuzz/report-$backend-$name" \
        --include-operation-id-regex "$(operations "$name")" \
        "$@")
}

started=$SECONDS
echo "==> schemathesis as a reviewer (its routes and the public ones)"
fuzz reviewer "$work/authenticated.toml" examples,coverage,fuzzing,stateful \
    -H "Authorization: Bearer $reviewer_key"
echo "==> schemathesis as a candidate (its routes)"
fuzz candidate "$work/authenticated.toml" examples,coverage,fuzzing,stateful \
    -H "X-API-Key: $session_token"
echo "==> schemathesis as a candidate completing its session (after which its writes are refused)"
fuzz completing "$work/authenticated.toml" examples,coverage,fuzzing \
    -H "X-API-Key: $session_token"
echo "==> schemathesis without credentials (public routes: redeem, health, the document)"
fuzz public "" examples,coverage,fuzzing
echo "schemathesis passed on $backend in $((SECONDS - started)) s"
