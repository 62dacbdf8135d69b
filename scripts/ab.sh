#!/usr/bin/env bash
# Compares an earlier commit with the work tree, runs alternating, on the
# figures of BENCHMARKS.md: classification on one core (criterion), the
# chat service end to end (load generator, SQLite and PostgreSQL), and the
# instructions one classification costs (callgrind).
#
#   scripts/ab.sh COMMIT [RUNS]
#
# COMMIT is checked out into target/ab/old (a git worktree; AB_OLD names
# another folder) and built there with its own target folder. RUNS (default 3) is how many times each side
# runs each benchmark, old and new taking turns. Each line printed is one
# run: `side benchmark figure`. PostgreSQL runs when psql reaches
# 127.0.0.1:5432 (database `test`, user `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."

commit=${1:?usage: scripts/ab.sh COMMIT [RUNS]}
runs=${2:-3}
new=$PWD
old=${AB_OLD:-$PWD/target/ab/old}
mkdir -p target/ab
if [ ! -d "$old" ]; then
  git worktree add --detach "$old" "$commit" >/dev/null
else
  git -C "$old" checkout --quiet --detach "$commit"
fi

# The profiling profile, given here too: an older commit may not define it.
profiling=(--profile profiling --config 'profile.profiling.inherits="release"'
  --config 'profile.profiling.debug="line-tables-only"' --config 'profile.profiling.strip="none"')

build() {
  (cd "$1" && cargo build --quiet --release --locked --bin madoguchi --example loadgen \
    && cargo build --quiet "${profiling[@]}" --locked --example profile_classify \
    && cargo bench --quiet --locked --bench classify --no-run 2>/dev/null)
}
build "$old"
build "$new"

# The newest criterion binary of a tree.
bench_binary() {
  ls -t "$1"/target/release/deps/classify-* | grep -v '\.d$' | head -n 1
}

classify() {
  local side=$1 dir=$2
  (cd "$dir" && "$(bench_binary "$dir")" --bench 'classify/(1000_intents|example_rules)$' 2>/dev/null) |
    awk -v side="$side" '
      /^classify\// { name = $1 }
      $1 == "thrpt:" && /elem\/s/ { print side, name, $4, $5 }'
}

serve_and_load() {
  local side=$1 dir=$2 database=$3 label=$4 port=18090
  # One address sends everything: the rate limits are off (a side that
  # has none ignores the variable).
  MADOGUCHI_RATE_LIMITS=off "$dir/target/release/madoguchi" serve --rules "$dir/rules" --database "$database" \
    --listen "127.0.0.1:$port" >/dev/null 2>&1 &
  local server=$!
  for _ in $(seq 1 50); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    sleep 0.2
  done
  "$dir/target/release/examples/loadgen" --url "http://127.0.0.1:$port" \
    --connections 32 --conversations 200 --seconds 20 |
    tr '\n' ' ' | sed -E "s/^/$side $label /; s/$/\n/"
  kill -INT "$server"
  wait "$server" || true
}

sqlite_load() {
  local side=$1 dir=$2 file
  file=$(mktemp -d)/load.db
  serve_and_load "$side" "$dir" "sqlite://$file" sqlite
  rm -rf "$(dirname "$file")"
}

postgres_load() {
  local side=$1 dir=$2 schema="ab_$1_$RANDOM"
  psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $schema" >/dev/null
  serve_and_load "$side" "$dir" \
    "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$schema" postgres
  psql -q -h 127.0.0.1 -U postgres -d test -c "DROP SCHEMA $schema CASCADE" >/dev/null
}

instructions() {
  local side=$1 dir=$2 out
  out=$(mktemp)
  (cd "$dir" && valgrind --tool=callgrind --callgrind-out-file="$out" \
      --toggle-collect='profile_classify::run' \
      target/profiling/examples/profile_classify 2 >/dev/null 2>&1)
  callgrind_annotate "$out" | awk -v side="$side" '/PROGRAM TOTALS/ {
      gsub(",", "", $1); printf "%s callgrind %.0f instructions per message\n", side, $1 / 2000 }'
  rm -f "$out"
}

postgres=false
psql -q -h 127.0.0.1 -U postgres -d test -c 'SELECT 1' >/dev/null 2>&1 && postgres=true

for run in $(seq 1 "$runs"); do
  echo "# run $run"
  classify old "$old"
  classify new "$new"
  sqlite_load old "$old"
  sqlite_load new "$new"
  if $postgres; then
    postgres_load old "$old"
    postgres_load new "$new"
  fi
done
if command -v valgrind >/dev/null; then
  instructions old "$old"
  instructions new "$new"
fi
