#!/bin/bash
# Run the same default commands on two checkouts and compare their outputs byte for byte:
# a refactor must leave them unchanged.
#   bash benchmarks/same_results.sh BEFORE_TREE AFTER_TREE [DATA_ROOT]
# (BEFORE_TREE, e.g. `git worktree add /tmp/before <commit>`). Writes
# benchmarks/results/same_results.md in AFTER_TREE.
set -euo pipefail
before=$1 after=$2 root=${3:-../shared/data}
export HF_HUB_OFFLINE=1
out=$(mktemp -d)
commands=(
  "train --data cora --seeds 0"
  "train --data texas --seeds 0"
  "subgraph train --data component --repeats 1"
  "embed --data cora --objective node2vec --epochs 1 --seed 0"
)
table="| command | files compared | before = after |\n|---|---|---|\n"
for cmd in "${commands[@]}"; do
  for side in before after; do
    tree=${!side}
    dest="$out/$side-${cmd//[ -]/_}"
    [[ $cmd == embed* ]] && dest="$dest.npy"
    # shellcheck disable=SC2086
    PYTHONPATH=$tree mmgraph $cmd --root "$root" --out "$dest" --quiet > /dev/null
  done
  a="$out/before-${cmd//[ -]/_}" b="$out/after-${cmd//[ -]/_}"
  if [[ $cmd == embed* ]]; then files="embeddings .npy"; a="$a.npy" b="$b.npy"
    cmp -s "$a" "$b" && same=yes || same=NO
  else
    files="" same=yes
    for f in model.safetensors embeddings.npy metrics.json; do
      [[ -f $a/$f ]] || continue
      files="$files $f"
      cmp -s "$a/$f" "$b/$f" || same=NO
    done
  fi
  table="$table| \`mmgraph $cmd\` |$files | $same |\n"
done
report="$after/benchmarks/results/same_results.md"
printf "# Same results before and after a refactor\n\nCommand: \`bash benchmarks/same_results.sh %s %s\`\n(before: %s, after: %s).\n\n%b" \
  "$before" "$after" "$(git -C "$before" rev-parse --short HEAD)" "$(git -C "$after" rev-parse --short HEAD)" "$table" > "$report"
cat "$report"
