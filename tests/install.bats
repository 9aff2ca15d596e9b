#!/usr/bin/env bats
# make install / uninstall with PREFIX and DESTDIR.

load helper

# -o all: install the binaries under test as they are; never rebuild
# them here (under check-asan that would need the sanitizer flags too)
inst() {
	make -s -o all -C "$CP_TOP" BUILD="$CP_BUILD" BINOUT="$CP_BIN" \
	    PREFIX=/usr/local DESTDIR="$T/root" "$@"
}

@test "make install puts binaries, pages, completions and examples in place" {
	run inst install
	assert_success
	r="$T/root/usr/local"
	for b in "$CP_BIN"/*; do
		n=$(basename "$b")
		[ -x "$r/bin/$n" ] || { echo "missing bin/$n"; return 1; }
		[ -f "$r/share/man/man1/$n.1" ] || { echo "missing man1/$n.1"; return 1; }
		[ -f "$r/share/bash-completion/completions/$n" ] || { echo "missing completion $n"; return 1; }
		[ -f "$r/share/zsh/site-functions/_$n" ] || { echo "missing zsh _$n"; return 1; }
	done
	[ -f "$r/share/man/man7/clientpulse.7" ]
	[ -f "$r/share/man/man5/clientpulse-records.5" ]
	[ -f "$r/share/clientpulse/examples/accounts.ndjson" ]
	run "$r/bin/clientpulse" validate --version
	assert_success
	MANPATH="$r/share/man" run man -w cp-validate
	assert_output "$r/share/man/man1/cp-validate.1"
}

@test "make uninstall removes everything it installed" {
	inst install
	run inst uninstall
	assert_success
	run find "$T/root" -type f
	assert_output ""
}
