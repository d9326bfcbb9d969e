#!/usr/bin/env bash
# Times the main job's epoch and ResNet-56 training steps on a quiet machine and beside other load, alternately,
# so that drift on a shared machine falls on every condition alike. Prints one CSV row per run:
#   condition,job,threads,seconds,cpu_seconds
# seconds is the epoch time the trainer reports (training plus the test pass); cpu_seconds is the process's user +
# system time (threads spinning in wait show up there).
# Usage: bench/contention.sh HETCONV_BINARY [ROUNDS] [CONDITIONS]   (conditions: quiet busy heavy; default all three)
# busy: one `yes > /dev/null` (one core taken); heavy: a process with 16 spinning threads.
set -euo pipefail
bin=${1:?path to the hetconv binary}
rounds=${2:-3}
conditions=${3:-"quiet busy heavy"}
work=$(mktemp -d)
trap 'kill $load 2>/dev/null || true; rm -rf "$work"' EXIT
load=

cat > "$work/spin.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
static void *spin(void *a) { volatile unsigned long x = 0; for (;;) x++; return a; }
int main(int argc, char **argv) { int n = argc > 1 ? atoi(argv[1]) : 200; pthread_t t;
  for (int i = 1; i < n; i++) pthread_create(&t, 0, spin, 0); spin(0); }
C
cc -O2 -pthread -o "$work/spin" "$work/spin.c"

start_load() {
  case $1 in
    quiet) load= ;;
    busy) yes > /dev/null & load=$! ;;
    heavy) "$work/spin" 16 & load=$! ;;
  esac
  sleep 1
}
stop_load() { if [[ -n $load ]]; then kill "$load"; wait "$load" 2>/dev/null || true; load=; fi; }

# run CONDITION JOB THREADS TIMEOUT ARGS...: one training run, its epoch time from metrics.csv.
run() {
  local condition=$1 job=$2 threads=$3 limit=$4; shift 4
  local out="$work/run" threads_arg=()
  [[ $threads != default ]] && threads_arg=(--threads "$threads")
  rm -rf "$out"
  local t0 t1 cpu seconds
  if /usr/bin/time -f "%U %S" -o "$work/time" timeout "$limit" "$bin" train --epochs 1 --out "$out" "${threads_arg[@]}" "$@" > /dev/null 2>&1; then
    seconds=$(tail -1 "$out/metrics.csv" | cut -d, -f7)
  else
    seconds=">$limit"
  fi
  cpu=$(tail -1 "$work/time" | awk '{print $1 + $2}')
  echo "$condition,$job,$threads,$seconds,$cpu"
}

echo "condition,job,threads,seconds,cpu_seconds"
for ((round = 1; round <= rounds; round++)); do
  for condition in $conditions; do
    start_load "$condition"
    if [[ $condition == heavy ]]; then
      run "$condition" "resnet20-256" default 60 --train-limit 256 --test-limit 128
      run "$condition" "resnet20-256" 1 60 --train-limit 256 --test-limit 128
    else
      run "$condition" "resnet20-2048" default 120 --train-limit 2048 --test-limit 512
      run "$condition" "resnet56-b128x8" default 300 --model resnet56 --train-limit 1024 --test-limit 128
    fi
    stop_load
  done
done
