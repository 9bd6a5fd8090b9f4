# Sourced by the scripts that take arguments, before they build, install or start anything, so
# that --help and a mistyped argument cost nothing. A script's usage is its header comment.

# Sourced before a script changes directory, $0 is still a path to it from here.
script_file="$(cd "$(dirname "$0")" && pwd)/${0##*/}"

# Prints the calling script's header comment, the lines between #! and `set -euo pipefail`.
usage() {
  sed -n '2,/^set -euo pipefail/s/^# \{0,1\}//p' "$script_file"
}

# refuse MESSAGE: one line on stderr naming the bad argument, and exit 2.
refuse() {
  echo "${0##*/}: $* (see $0 --help)" >&2
  exit 2
}

# help_or_positional MAX "$@": for a script whose arguments are at most MAX positional ones.
# --help or -h anywhere prints the usage and exits 0; an option or an argument too many is refused.
help_or_positional() {
  local max="$1" arg
  shift
  for arg in "$@"; do
    case "$arg" in -h|--help) usage; exit 0 ;; esac
  done
  for arg in "$@"; do
    # A negative number is left to whole_number, which says what the argument wants.
    case "$arg" in --*|-[!0-9]*) refuse "unknown option $arg" ;; esac
  done
  [ $# -le "$max" ] || refuse "unexpected argument '${*:max+1:1}'"
}

# from_here PATH: PATH as the caller means it, whole: a relative one is the current directory's,
# for a script that changes directory or hands it to a program that runs elsewhere.
from_here() {
  case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac
}

# takes_value "$@": refuses a flag ($1) that is the last argument, with no value after it.
takes_value() {
  [ $# -ge 2 ] || refuse "$1 needs a value"
}

# whole_number NAME VALUE [MIN]: refuses VALUE unless it is a whole number >= MIN (default 0).
whole_number() {
  local min="${3:-0}"
  if ! [[ "$2" =~ ^[0-9]{1,9}$ ]] || [ "$((10#$2))" -lt "$min" ]; then
    refuse "$1 wants a whole number >= $min, not '$2'"
  fi
}
