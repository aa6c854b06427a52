# Prelude of the scripts tools/doc-blocks.ts writes: one shell for every runnable block of a file.
set -u -o pipefail
# Job control: each background command gets its own process group, so stopping it reaches npm and
# everything npm started, as Ctrl-C does in a terminal.
set -m
__doc_pids=()
__doc_names=()
__doc_logs=()
__doc_dir=$(mktemp -d)

__doc_fail() {
  echo "doc-blocks: $1" >&2
  exit 1
}

# Starts a command that serves until stopped; returns once its log shows the ready text.
# usage: __doc_background WHERE READY SECONDS COMMAND
__doc_background() {
  local where=$1 ready=$2 seconds=$3 command=$4
  local log="$__doc_dir/${#__doc_pids[@]}.log"
  bash -c "$command" >"$log" 2>&1 </dev/null &
  local pid=$!
  __doc_pids+=("$pid")
  __doc_names+=("$where")
  __doc_logs+=("$log")
  local _
  for _ in $(seq 1 $((seconds * 10))); do
    grep -qF -- "$ready" "$log" && break
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$log" >&2; __doc_fail "$where exited before it was ready"; }
    sleep 0.1
  done
  grep -qF -- "$ready" "$log" || { tail -n 40 "$log" >&2; __doc_fail "$where was not ready within $seconds s"; }
  echo "(serving in the background until the end of the file)"
}

# Stops the background commands with SIGINT; each must exit by itself within 30 s.
__doc_stop() {
  local status=0 i pid code _
  for i in "${!__doc_pids[@]}"; do
    pid=${__doc_pids[$i]}
    kill -INT -- "-$pid" 2>/dev/null
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null
      echo "doc-blocks: ${__doc_names[$i]} did not stop within 30 s of SIGINT" >&2
      status=1
    else
      wait "$pid"
      code=$?
      # A process that handles SIGINT exits 0; npm reports the signal (130), as in a terminal.
      if [ "$code" -ne 0 ] && [ "$code" -ne 130 ]; then
        echo "doc-blocks: ${__doc_names[$i]} exited $code when stopped" >&2
        tail -n 20 "${__doc_logs[$i]}" >&2
        status=1
      fi
    fi
  done
  __doc_pids=()
  return $status
}

# usage: __doc_expect STATUS EXPECTED WHERE
__doc_expect() {
  [ "$1" -eq "$2" ] || __doc_fail "$3 exited $1, the documentation says $2"
}

trap '__doc_stop || true; rm -rf "$__doc_dir"' EXIT
