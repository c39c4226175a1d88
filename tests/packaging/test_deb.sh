#!/bin/sh
# test_deb.sh: builds the Debian package (tools/build-deb.sh, in a copy of the
# tree), installs it on this machine, checks what it installed (the binary,
# the man pages, the units, the pullgate user, an example that passes
# `pullgate check` with fresh certificates), and removes it again. Needs root;
# it installs and removes a package, so run it on a machine made for tests.
set -eu
cd "$(dirname "$0")/../.."
[ "$(id -u)" -eq 0 ] || { echo "test_deb.sh: needs root (it installs the package)" >&2; exit 1; }
sh tools/install-deps.sh debhelper dpkg-dev devscripts fakeroot man-db

out=$(mktemp -d)
installed=0
cleanup() {
	if [ $installed -eq 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq pullgate >/dev/null 2>&1 || true
	fi
	rm -rf "$out"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "build the package"
deb=$(timeout 240 sh tools/build-deb.sh "$out" | tail -n 1)
[ -f "$deb" ] || fail "no .deb built"
echo "$(basename "$deb"): $(du -k "$deb" | cut -f1) KiB"
dpkg-deb --contents "$deb" | awk '{ print "   " $6 }'

step "install it"
installed=1
DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -qq "$deb" >"$out/apt.log" 2>&1 ||
	{ cat "$out/apt.log" >&2; fail "apt-get install"; }

step "what it installed"
version=$(/usr/bin/pullgate version) || fail "pullgate version"
echo "$version"
case $version in "pullgate $(dpkg-parsechangelog -S Version | sed 's/-[^-]*$//') "*) ;; *) fail "version: $version" ;; esac
# A minimal image may tell dpkg not to install man pages and docs
# (path-exclude in /etc/dpkg/dpkg.cfg.d); then check the package's copies.
unpacked=$out/unpacked
dpkg-deb -x "$deb" "$unpacked"
if [ -e /usr/share/man/man8/pullgate.8.gz ]; then
	man -w pullgate >/dev/null || fail "man -w pullgate"
	man -w 5 pullgate.conf >/dev/null || fail "man -w 5 pullgate.conf"
	echo "man pages: $(man -w pullgate) $(man -w 5 pullgate.conf)"
else
	grep -qs 'path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/* || fail "man pages not installed"
	echo "man pages: excluded by dpkg's configuration here; checking the package's"
fi
for page in man8/pullgate.8.gz man5/pullgate.conf.5.gz; do
	[ -f "$unpacked/usr/share/man/$page" ] || fail "$page not in the package"
	man -l "$unpacked/usr/share/man/$page" >/dev/null 2>&1 || fail "man -l $page"
done
examples=/usr/share/doc/pullgate/examples
[ -d $examples ] || examples=$unpacked/usr/share/doc/pullgate/examples
for u in pullgate-edge.service pullgate-guard.service; do
	[ -f /lib/systemd/system/$u ] || fail "/lib/systemd/system/$u missing"
done
echo "units:" /lib/systemd/system/pullgate-*.service
getent passwd pullgate >/dev/null || fail "no pullgate user"
getent group pullgate >/dev/null || fail "no pullgate group"
echo "user: $(getent passwd pullgate)"
[ "$(stat -c '%U:%G %a' /etc/pullgate)" = "root:pullgate 750" ] || fail "/etc/pullgate is $(stat -c '%U:%G %a' /etc/pullgate)"
[ -z "$(find /etc/systemd/system -name 'pullgate-*' 2>/dev/null)" ] || fail "a unit was enabled"
if command -v systemd-analyze >/dev/null; then
	# Offline checks of the installed units (systemd need not be running).
	systemd-analyze verify /lib/systemd/system/pullgate-guard.service \
		/lib/systemd/system/pullgate-edge.service || fail "systemd-analyze verify"
	for u in guard edge; do
		echo "pullgate-$u: $(systemd-analyze security --offline=yes \
			/lib/systemd/system/pullgate-$u.service 2>/dev/null | tail -n 1)"
	done
fi

step "the installed examples pass pullgate check, as the pullgate user"
ls "$examples"
chmod 755 "$out"
cp tests/packaging/test_examples.sh "$out/"
su -s /bin/sh pullgate -c "cd / && sh $out/test_examples.sh /usr/bin/pullgate $examples" ||
	fail "examples"

step "remove it"
DEBIAN_FRONTEND=noninteractive timeout 120 apt-get remove -y -qq pullgate >/dev/null 2>&1 || fail "apt-get remove"
installed=0
[ ! -e /usr/bin/pullgate ] || fail "/usr/bin/pullgate is still there"
[ ! -e /lib/systemd/system/pullgate-guard.service ] || fail "a unit is still there"
echo "test_deb.sh: ok"
