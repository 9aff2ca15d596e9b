#!/usr/bin/env bats
# tests/fuzz-regress.bats — every fuzz target of tests/fuzz/, built WITHOUT
# libFuzzer (the normal compiler, tests/fuzz/replay.c as main(), linked
# against $CP_BUILD/libclientpulse.a), replays every file of its seed
# corpus tests/fuzz/corpus/NAME/ and of its regression corpus
# tests/fuzz/regress/NAME/ (the minimised crashes `make fuzz` found).
# Under make check-asan the library and the replayer carry ASan and UBSan,
# so a crash that comes back is a failure in both check builds, with or
# without clang.

load helper

# The flags the Makefile compiles with (warnings included), plus the
# sanitizers when the library was built with them.
fuzz_cc() {
	local flags="-std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
-Wmissing-prototypes -Wno-unused-parameter -D_POSIX_C_SOURCE=200809L \
-D_DEFAULT_SOURCE -DCP_VERSION=\"replay\" -O1 -g"
	local libs
	if [ "${CP_ASAN:-}" = 1 ]; then
		flags="$flags -fsanitize=address,undefined -fno-omit-frame-pointer \
-fno-sanitize-recover=undefined"
	fi
	libs=$(pkg-config --libs jansson libcurl sqlite3 libpcre2-8 libutf8proc \
	    libxml-2.0 libcrypto)
	# shellcheck disable=SC2086
	${CC:-cc} $flags -I"$CP_TOP/lib" -I"$CP_BUILD" -I"$CP_TOP/tests/fuzz" \
	    $(pkg-config --cflags jansson libxml-2.0) -o "$1" "$2" \
	    "$CP_TOP/tests/fuzz/replay.c" "$CP_BUILD/libclientpulse.a" $libs -lm
}

setup_file() {
	export REPLAY="$BATS_FILE_TMPDIR/replay"
	mkdir -p "$REPLAY"
	local t
	for t in "$CP_TOP"/tests/fuzz/fuzz_*.c; do
		fuzz_cc "$REPLAY/$(basename "$t" .c)" "$t" \
		    2>"$REPLAY/$(basename "$t" .c).cc.log" || true
	done
}

# replay NAME: every seed and regression input of target NAME, once.
replay() {
	local name=$1 dirs=()
	[ -x "$REPLAY/$name" ] || {
		cat "$REPLAY/$name.cc.log"
		fail "fuzz target $name does not build without libFuzzer"
	}
	[ -d "$CP_TOP/tests/fuzz/corpus/$name" ] &&
	    dirs+=("$CP_TOP/tests/fuzz/corpus/$name")
	[ -d "$CP_TOP/tests/fuzz/regress/$name" ] &&
	    dirs+=("$CP_TOP/tests/fuzz/regress/$name")
	[ "${#dirs[@]}" -gt 0 ] || fail "fuzz target $name has no seed corpus"
	run "$REPLAY/$name" "${dirs[@]}"
	assert_equal "$status" 0
	assert_output --regexp '^replay: [1-9][0-9]* inputs$'
	# a failure here is a crash or a sanitizer report: make fuzz found it
	# once; the input that brings it back is in tests/fuzz/regress/$name/
}

@test "fuzz regress: the NDJSON reader (fuzz_ndjson)" {
	replay fuzz_ndjson
}

@test "fuzz regress: JSON, records and the signal view (fuzz_record)" {
	replay fuzz_record
}

@test "fuzz regress: the RSS/Atom parser (fuzz_feed)" {
	replay fuzz_feed
}

@test "fuzz regress: URLs, dates and durations (fuzz_url)" {
	replay fuzz_url
}

@test "fuzz regress: the SEC EDGAR mappers (fuzz_edgar)" {
	replay fuzz_edgar
}

@test "fuzz regress: the Greenhouse and Lever mappers (fuzz_jobs)" {
	replay fuzz_jobs
}

@test "fuzz regress: the config and credentials parser (fuzz_config)" {
	replay fuzz_config
}

@test "fuzz regress: record files, normalisers, FTS5 queries (fuzz_import)" {
	replay fuzz_import
}

@test "fuzz regress: cp-search queries against FTS5 (fuzz_search)" {
	replay fuzz_search
}

@test "fuzz regress: HTML to text (fuzz_html)" {
	replay fuzz_html
}

@test "fuzz regress: text, entities and PII (fuzz_extract)" {
	replay fuzz_extract
}

@test "fuzz regress: the one-pass JSON scan (fuzz_jscan)" {
	replay fuzz_jscan
}

@test "fuzz regress: every target of tests/fuzz builds and replays" {
	# targets added later are covered here even before a test names them
	local t name n=0
	for t in "$CP_TOP"/tests/fuzz/fuzz_*.c; do
		name=$(basename "$t" .c)
		replay "$name"
		n=$((n + 1))
	done
	[ "$n" -ge 12 ]
	measure "fuzz corpora: $n targets, $(find "$CP_TOP"/tests/fuzz/corpus \
	    "$CP_TOP"/tests/fuzz/regress -type f 2>/dev/null | wc -l | tr -d ' ') inputs replayed"
}

@test "fuzz regress: the replayer fails on a crash (the suite can fail)" {
	local prog="$BATS_TEST_TMPDIR/crasher.c"
	cat >"$prog" <<'EOF'
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && data[0] == 'b' && data[1] == 'o' && data[2] == 'o' &&
	    data[3] == 'm')
		abort();
	return 0;
}
EOF
	fuzz_cc "$BATS_TEST_TMPDIR/crasher" "$prog"
	printf 'fine' >"$BATS_TEST_TMPDIR/ok"
	printf 'boom' >"$BATS_TEST_TMPDIR/bad"
	run "$BATS_TEST_TMPDIR/crasher" "$BATS_TEST_TMPDIR/ok"
	assert_equal "$status" 0
	assert_output 'replay: 1 inputs'
	run "$BATS_TEST_TMPDIR/crasher" "$BATS_TEST_TMPDIR/ok" \
	    "$BATS_TEST_TMPDIR/bad"
	assert_equal "$status" 134    # SIGABRT
}
