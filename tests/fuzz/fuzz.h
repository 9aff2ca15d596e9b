/*
 * fuzz.h — what the targets of tests/fuzz share.
 *
 * Each fuzz_NAME.c defines LLVMFuzzerTestOneInput.  The same file is
 * built two ways: by tests/fuzz/run as a libFuzzer target (clang
 * -fsanitize=fuzzer), and by tests/fuzz-regress.bats with the normal
 * toolchain and tests/fuzz/replay.c as main(), which feeds it every file
 * of the seed and regression corpora (so make check and make check-asan
 * replay them without clang).
 */
#ifndef CP_FUZZ_H
#define CP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Messages about bad input are expected by the thousand: silence them,
 * or the fuzzer spends its time writing to stderr. */
static inline void fuzz_quiet(void)
{
	cp_log_set_level(-1);
}

/*
 * For the parsers that only read files: data into a private temporary
 * file (0600), whose path is returned (static storage, the same file
 * every time, removed at exit).  Aborts when the file cannot be written:
 * that is the harness failing, not the code under test.
 */
static inline char *fuzz_tmp_name(void)
{
	static char path[64];
	return path;
}

static inline void fuzz_tmp_remove(void)
{
	if (*fuzz_tmp_name())
		unlink(fuzz_tmp_name());
}

static inline const char *fuzz_tmpfile(const uint8_t *data, size_t size)
{
	char *path = fuzz_tmp_name();
	FILE *fp;

	if (!*path) {
		const char *dir = getenv("TMPDIR");
		int fd;

		snprintf(path, 64, "%s/cp-fuzz.XXXXXX",
		    dir && *dir && strlen(dir) < 40 ? dir : "/tmp");
		if ((fd = mkstemp(path)) < 0)
			abort();
		close(fd);
		atexit(fuzz_tmp_remove);
	}
	if (!(fp = fopen(path, "w")))
		abort();
	if (size && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp))
		abort();
	return path;
}

#endif
