#!/usr/bin/env bats
# Documentation and completions stay true to the binaries: every binary
# has a lint-clean man page and bash/zsh completions, and every flag its
# --help lists appears in all three.

load helper

binaries() {
	for b in "$CP_BIN"/*; do basename "$b"; done
}

flags_of() {
	"$CP_BIN/$1" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u
}

@test "mandoc -Tlint -Wwarning is silent for every page" {
	run mandoc -Tlint -Wwarning "$CP_TOP"/man/*
	assert_success
	assert_output ""
}

@test "every binary has a section 1 page" {
	for b in $(binaries); do
		[ -f "$CP_TOP/man/$b.1" ] || { echo "no man/$b.1"; return 1; }
	done
}

@test "every flag in --help is documented in the man page" {
	for b in $(binaries); do
		page=$(mandoc -Tascii "$CP_TOP/man/$b.1" | sed "s/.\x08//g")
		for f in $(flags_of "$b"); do
			grep -q -- "$f" <<<"$page" || { echo "$b: $f not in man page"; return 1; }
		done
	done
}

@test "every binary has bash and zsh completions that know its flags" {
	for b in $(binaries); do
		[ -f "$CP_TOP/completions/bash/$b" ] || { echo "no bash completion for $b"; return 1; }
		[ -f "$CP_TOP/completions/zsh/_$b" ] || { echo "no zsh completion for $b"; return 1; }
		for f in $(flags_of "$b"); do
			grep -q -- "$f\\b" "$CP_TOP/completions/bash/$b" ||
			    { echo "$b: $f not in bash completion"; return 1; }
			grep -q -- "$f\\b" "$CP_TOP/completions/zsh/_$b" ||
			    { echo "$b: $f not in zsh completion"; return 1; }
		done
	done
}

@test "bash completions load and register each binary" {
	for b in $(binaries); do
		run bash -c "source '$CP_TOP/completions/bash/$b' && complete -p '$b'"
		assert_success
		assert_output --regexp "^complete -F [_a-z]+ $b\$"
	done
}

# complete WORDS...: the candidates bash offers for the last word
complete_words() {
	local b=$1; shift
	bash -c '
		source "$1/completions/bash/$2"; shift 2
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		fn=$(complete -p "${COMP_WORDS[0]}" | sed "s/.*-F \([^ ]*\).*/\1/")
		$fn "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" ""
		printf "%s\n" "${COMPREPLY[@]}"' _ "$CP_TOP" "$b" "$@"
}

@test "bash completion offers subcommands, flags and values" {
	fixture_state
	run complete_words cp-account cp-account ""
	assert_line add
	assert_line import
	run complete_words cp-account cp-account show ""
	assert_line northwind
	run complete_words cp-user cp-user add x --role ""
	assert_equal "$(echo "$output" | sort | tr '\n' ' ')" "admin am manager viewer "
	run complete_words cp-validate cp-validate --ty
	assert_output "--type"
	run complete_words clientpulse clientpulse in
	assert_line inbox
	assert_line init
}

@test "zsh completions are valid zsh" {
	command -v zsh >/dev/null || skip "zsh not installed"
	for f in "$CP_TOP"/completions/zsh/_*; do
		zsh -n "$f" || { echo "bad: $f"; return 1; }
	done
}

@test "every binary: --version, --help exit 0; an unknown flag exits 64" {
	for b in $(binaries); do
		run "$b" --version
		assert_success
		assert_output --regexp "^$b [0-9]+\.[0-9]+\.[0-9]+\$"
		run "$b" --help
		assert_success
		assert_output --partial "usage: $b"
		run "$b" --no-such-flag
		assert_equal "$status" 64
	done
}

@test "the README quick start names only commands that exist" {
	for c in $(grep -o '`make [a-z-]*' "$CP_TOP/README.md" | awk '{print $2}' | sort -u); do
		grep -q "^$c:" "$CP_TOP/Makefile" || { echo "make $c missing"; return 1; }
	done
	for c in $(grep -o '\bcp-[a-z]*' "$CP_TOP/README.md" | sort -u); do
		[ -x "$CP_BIN/$c" ] || { echo "$c in README but not built"; return 1; }
	done
}

@test "HACKING.md names every module of lib/" {
	missing=
	for h in "$CP_TOP"/lib/*.h; do
		m=$(basename "$h" .h)
		grep -q "\`$m\`\|\`$m.h\`" "$CP_TOP/HACKING.md" || missing="$missing $m"
	done
	assert_equal "$missing" ""
}
