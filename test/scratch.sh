#!/usr/bin/env bash
# One scratch directory per ctest run (test/CMakeLists.txt, fixture
# dbs_scratch): every test makes its own directory below it ($T in
# integration/lib.sh, TMPDIR for the unit tests) and removes it when it
# passes, so what a run leaves is the failed tests' scratch, in one place.
#   scratch.sh begin LINK  makes the run's directory in $TMPDIR (or /tmp)
#                          and points the symlink LINK at it
#   scratch.sh end LINK    removes it when nothing is left in it, else
#                          names what was kept; removes LINK
set -euo pipefail
link=$2
case $1 in
begin)
  root=$(mktemp -d "${TMPDIR:-/tmp}/dbs-ctest.XXXXXX")
  chmod 755 "$root" # tests running as nobody must reach their own directories
  ln -sfn "$root" "$link"
  echo "scratch of this run: $root"
  ;;
end)
  root=$(readlink "$link") || exit 0
  rm -f "$link"
  if rmdir "$root" 2>/dev/null; then
    echo "scratch of this run removed (every test cleaned up after itself)"
  else
    echo "scratch kept in $root:"
    ls -l "$root"
  fi
  ;;
*)
  echo "usage: scratch.sh begin|end LINK" >&2
  exit 64
  ;;
esac
