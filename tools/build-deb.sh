#!/bin/sh
# build-deb.sh [OUTDIR]: builds the Debian package with dpkg-buildpackage in a
# copy of this tree (its files as they are now, committed or not, without
# build output), so the build leaves nothing in the tree, and copies the .deb
# to OUTDIR (default build/deb) with the build's log. Prints the paths of the
# .debs, pullgate's own last.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/deb}
case $out in /*) ;; *) out=$(pwd)/$out ;; esac

sh tools/install-deps.sh build-essential debhelper dpkg-dev fakeroot pkg-config libssl-dev libyaml-dev

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/pullgate"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and new files that exist (a tracked file may be deleted).
	git ls-files --cached --others --exclude-standard |
		while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
		tar -cf - -T - | tar -xf - -C "$work/pullgate"
else
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$work/pullgate"
fi

mkdir -p "$out"
# dpkg-buildpackage writes the .deb into the copy's parent folder.
if ! (cd "$work/pullgate" && dpkg-buildpackage -us -uc -b -j"$(nproc)") >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
	exit 1
fi
# The package itself last, after its debug symbols (pullgate-dbgsym).
cp "$work"/*.deb "$out/"
for deb in "$work"/*.deb; do
	case $deb in */pullgate_*) ;; *) echo "$out/$(basename "$deb")" ;; esac
done
echo "$out/$(basename "$work"/pullgate_*.deb)"
