#!/bin/sh
# test_examples.sh [PULLGATE [EXAMPLES_DIR]]: makes the certificates the
# example configurations name with `pullgate pki`, copies the examples into a
# temporary folder with /etc/pullgate/ rewritten to it, and runs
# `pullgate check` on each. Defaults: the tree's build/pullgate and examples/;
# relative arguments are relative to the current folder.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${1:-$root/build/pullgate}
src=${2:-$root/examples}
case $bin in /*) ;; */*) bin=$(pwd)/$bin ;; esac

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

pki() { "$bin" pki "$@" >/dev/null; }
pki ca --cert "$dir/pull-ca.pem" --key "$dir/pull-ca.key" --cn "Example Pull CA"
pki crl --ca-cert "$dir/pull-ca.pem" --ca-key "$dir/pull-ca.key" --crl "$dir/pull-ca.crl"
pki issue client --ca-cert "$dir/pull-ca.pem" --ca-key "$dir/pull-ca.key" \
	--cert "$dir/edge-client.pem" --key "$dir/edge-client.key" --cn edge.example.com --dns edge.example.com
pki ca --cert "$dir/origin-ca.pem" --key "$dir/origin-ca.key" --cn "Example Origin CA"
pki issue server --ca-cert "$dir/origin-ca.pem" --ca-key "$dir/origin-ca.key" \
	--cert "$dir/origin.pem" --key "$dir/origin.key" --cn origin.example.com --chain
pki issue server --ca-cert "$dir/origin-ca.pem" --ca-key "$dir/origin-ca.key" \
	--cert "$dir/example.com.pem" --key "$dir/example.com.key" --cn example.com \
	--dns example.com --dns '*.example.com' --chain

status=0
for f in "$src"/*.yaml; do
	name=$(basename "$f")
	sed "s|/etc/pullgate/|$dir/|g" "$f" > "$dir/$name"
	if out=$("$bin" check -c "$dir/$name" 2>&1); then
		echo "ok   $name"
	else
		echo "FAIL $name"
		status=1
	fi
	printf '%s\n' "$out" | sed "s|$dir/||g; s|^|     |"
done
# The check reads the files: the same example without them must fail.
set -- "$src"/*.yaml
first=$1
sed "s|/etc/pullgate/|$dir/missing/|g" "$first" > "$dir/missing.yaml"
if "$bin" check -c "$dir/missing.yaml" >/dev/null 2>&1; then
	echo "FAIL $(basename "$first") passes check without its certificates"
	status=1
else
	echo "ok   $(basename "$first") without its certificates fails check"
fi
exit $status
