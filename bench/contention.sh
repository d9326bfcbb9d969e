#!/usr/bin/env bash
# Times the main job's epoch and ResNet-56 training steps on a quiet machine and beside other load. Every round runs
# each condition, and within it every variant back to back, so that drift on a shared machine falls on all alike.
# Prints one CSV row per run:  round,condition,variant,job,seconds,cpu_seconds
# seconds is the epoch time the trainer reports (training plus the test pass); cpu_seconds is the process's user +
# system time (threads spinning in wait show up there).
#
# Usage: bench/contention.sh ROUNDS "CONDITIONS" VARIANT...
#   CONDITIONS: any of quiet, busy (one `yes > /dev/null`: one core taken), heavy (a process with 16 spinning threads)
#   VARIANT: label=path/to/hetconv[,NAME=VALUE...] (environment for that variant, e.g. GOMP_SPINCOUNT=3000)
#   JOBS (environment, default "resnet20 resnet56"): resnet20 = the main job on 2,048 images; resnet56 = ResNet-56,
#   batch 128, 8 steps; resnet20-small = 256 images, for the heavy condition; resnet20-512, resnet56-512: shorter runs.
#   NICE (environment, e.g. -20, as root): runs the jobs and the load at that niceness, so that they share the cores
#   among themselves as on a quiet machine while other processes' load is held back.
set -euo pipefail
rounds=${1:?rounds}
conditions=${2:?conditions}
shift 2
jobs=${JOBS:-"resnet20 resnet56"}
nice=(nice -n "${NICE:-0}")
work=$(mktemp -d)
load=
trap 'if [[ -n $load ]]; then kill "$load"; fi; rm -rf "$work"' EXIT

cat > "$work/spin.c" <<'C'
#include <pthread.h>
#include <stdlib.h>
static void *spin(void *a) { volatile unsigned long x = 0; for (;;) x++; return a; }
int main(int argc, char **argv) { int n = argc > 1 ? atoi(argv[1]) : 16; pthread_t t;
  for (int i = 1; i < n; i++) pthread_create(&t, 0, spin, 0); spin(0); }
C
cc -O2 -pthread -o "$work/spin" "$work/spin.c"

start_load() {
  case $1 in
    quiet) load= ;;
    busy) "${nice[@]}" yes > /dev/null & load=$! ;;
    heavy) "${nice[@]}" "$work/spin" 16 & load=$! ;;
    *) echo "unknown condition $1" >&2; exit 2 ;;
  esac
  sleep 1
}
stop_load() { if [[ -n $load ]]; then kill "$load"; wait "$load" 2>/dev/null || true; load=; fi; }

job_args() {
  case $1 in
    resnet20) echo "--train-limit 2048 --test-limit 512" ;;
    resnet20-512) echo "--train-limit 512 --test-limit 128" ;;
    resnet56-512) echo "--model resnet56 --train-limit 512 --test-limit 128" ;;
    resnet56) echo "--model resnet56 --train-limit 1024 --test-limit 128" ;;
    resnet20-small) echo "--train-limit 256 --test-limit 128" ;;
    *) echo "unknown job $1" >&2; exit 2 ;;
  esac
}

# run ROUND CONDITION VARIANT JOB: one training epoch, its time from metrics.csv (">300" when it did not finish).
run() {
  local round=$1 condition=$2 variant=$3 job=$4
  local label=${variant%%=*} rest=${variant#*=}
  local bin=${rest%%,*} env=()
  [[ $rest == *,* ]] && IFS=, read -ra env <<< "${rest#*,}"
  local out="$work/run" seconds
  rm -rf "$out"
  # shellcheck disable=SC2046
  if "${nice[@]}" env "${env[@]}" /usr/bin/time -f "%U %S" -o "$work/time" timeout 300 "$bin" train --epochs 1 --out "$out" $(job_args "$job") > /dev/null 2>&1; then
    seconds=$(tail -1 "$out/metrics.csv" | cut -d, -f7)
  else
    seconds=">300"
  fi
  echo "$round,$condition,$label,$job,$seconds,$(tail -1 "$work/time" | awk '{print $1 + $2}')"
}

echo "round,condition,variant,job,seconds,cpu_seconds"
for ((round = 1; round <= rounds; round++)); do
  for condition in $conditions; do
    start_load "$condition"
    for job in $jobs; do
      for variant in "$@"; do run "$round" "$condition" "$variant" "$job"; done
    done
    stop_load
  done
done
