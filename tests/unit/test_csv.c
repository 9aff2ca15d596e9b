/*
 * Unit tests for lib/csv.c: RFC 4180 quoting.  The round trip through a
 * strict reader is in tests/cp-inbox-export.bats (python3's csv module).
 */
#include <stdlib.h>

#include "csv.h"
#include "log.h"
#include "strbuf.h"
#include "tap.h"

static char *field(const char *s)
{
	strbuf sb = CP_STRBUF_INIT;

	cp_csv_field(&sb, s);
	return sb_detach(&sb);
}

static void check_field(const char *in, const char *want, const char *what)
{
	char *got = field(in);

	is_str(got, want, "%s", what);
	free(got);
}

int main(void)
{
	strbuf sb = CP_STRBUF_INIT;
	const char *row[] = { "card_1", "a,b", NULL, "say \"hi\"", "" };

	cp_log_init("test_csv");
	check_field("plain", "plain", "plain text is not quoted");
	check_field("", "", "empty field stays empty");
	check_field(NULL, "", "NULL is the empty field");
	check_field("a,b", "\"a,b\"", "a comma is quoted");
	check_field("say \"hi\"", "\"say \"\"hi\"\"\"", "quotes are doubled");
	check_field("\"", "\"\"\"\"", "a lone quote");
	check_field("two\nlines", "\"two\nlines\"", "LF is quoted");
	check_field("cr\rhere", "\"cr\rhere\"", "CR is quoted");
	check_field(" lead", "\" lead\"", "a leading space is quoted");
	check_field("trail ", "\"trail \"", "a trailing space is quoted");
	check_field("Сбербанк 株式会社 🚀", "Сбербанк 株式会社 🚀",
	    "UTF-8 passes through unquoted");
	check_field("=1+2", "=1+2", "formulas are data, not defused");
	ok(!cp_csv_needs_quotes("x y"), "an inner space needs no quotes");

	cp_csv_row(&sb, row, 5);
	is_str(sb_str(&sb), "card_1,\"a,b\",,\"say \"\"hi\"\"\",\r\n",
	    "a row: commas between fields, CRLF at the end");
	sb_reset(&sb);
	cp_csv_row(&sb, row, 1);
	is_str(sb_str(&sb), "card_1\r\n", "a one-field row");
	sb_free(&sb);
	return done_testing();
}
