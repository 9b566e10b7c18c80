#!/bin/bash
# Install MBROLA and voices from Debian contrib/non-free without touching the system's apt sources (only `main`
# is enabled on these machines): a private sources list, lists and cache.
#   tools/install_mbrola.sh                 # the voices the tests use (English and one per language)
#   tools/install_mbrola.sh de4 fr4 es2     # more voices, for benchmarks
# The voices are non-free (non-commercial use): meshsync uses them for tests and evaluation only.
set -euo pipefail
voices="${*:-us1 us2 us3 en1 de2 fr1 es1 it3 br1 nl2 pl1}"
missing=""
for p in mbrola $(printf 'mbrola-%s ' $voices); do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
mkdir -p "$state/lists/partial" "$state/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main contrib non-free" \
  > "$state/sources.list"
opts=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/nonexistent
      -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache")
echo "installing$missing (Debian contrib/non-free, private apt state)"
apt-get "${opts[@]}" update -q
DEBIAN_FRONTEND=noninteractive apt-get "${opts[@]}" install -y -q --no-install-recommends $missing
