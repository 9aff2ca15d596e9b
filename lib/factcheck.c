#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "factcheck.h"
#include "mem.h"
#include "strbuf.h"

/* Ordinary words that start sentences; anything else capitalised at the
 * start of a sentence is taken for a name. */
static const char *const common[] = {
	"a", "about", "after", "also", "an", "and", "any", "as", "ask", "at",
	"be", "because", "before", "begin", "both", "but", "by", "call",
	"consider", "congratulate", "contact", "each", "email", "every",
	"following", "for", "from", "given", "he", "her", "his", "i", "if",
	"in", "it", "its", "many", "most", "new", "next", "no", "not", "now",
	"of", "offer", "on", "one", "or", "our", "please", "propose", "reach",
	"schedule", "send", "share", "she", "since", "so", "some", "start",
	"suggest", "such", "that", "the", "their", "then", "there", "these",
	"they", "this", "those", "to", "today", "use", "we", "when", "while",
	"with", "within", "you", "your", "what", "why", "how", "help",
	"once", "over", "during", "until", "here", "let", "make", "set",
	NULL
};

static bool is_common(const char *w, size_t n)
{
	int i;

	for (i = 0; common[i]; i++)
		if (strlen(common[i]) == n && !strncasecmp(common[i], w, n))
			return true;
	return false;
}

static bool wordch(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '_';
}

/* Read a number at s: digits, "," between digits dropped (1,200 is
 * 1200), "." between digits kept.  Returns the bytes read. */
static size_t read_number(const char *s, char *out, size_t size)
{
	size_t i = 0, o = 0;

	while (s[i] && o + 1 < size) {
		if (isdigit((unsigned char)s[i]))
			out[o++] = s[i];
		else if ((s[i] == ',' || s[i] == '.') && i > 0 &&
		    isdigit((unsigned char)s[i + 1]))
			s[i] == '.' ? (void)(out[o++] = '.') : (void)0;
		else
			break;
		i++;
	}
	out[o] = '\0';
	return i;
}

/* Is the number num in corpus as a whole number? */
static bool number_in(const char *num, const char *corpus)
{
	const char *p = corpus;
	char buf[64];

	while (*p) {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		p += read_number(p, buf, sizeof buf);
		if (!strcmp(buf, num))
			return true;
	}
	return false;
}

/* Is word w (n bytes) in corpus as a whole word, same case? */
static bool word_in(const char *w, size_t n, const char *corpus)
{
	const char *q = corpus;

	while ((q = strchr(q, w[0])) != NULL) {
		if (!strncmp(q, w, n) && (q == corpus ||
		    !wordch((unsigned char)q[-1])) && !wordch((unsigned char)q[n]))
			return true;
		q++;
	}
	return false;
}

bool cp_factcheck(const char *text, const char *corpus, char *why,
    size_t whylen)
{
	const char *p = text;
	bool start = true;

	while (*p) {
		const char *w = p;
		size_t n = 0;

		if (!wordch((unsigned char)*p)) {
			if (strchr(".!?:\n", *p))
				start = true;
			p++;
			continue;
		}
		/* a word: letters and digits, with inner ' and -, and the
		 * separators of numbers (1,200 and 1.2) */
		while (wordch((unsigned char)w[n]) ||
		    ((w[n] == '\'' || w[n] == '-') && n &&
		    wordch((unsigned char)w[n + 1])) ||
		    ((w[n] == ',' || w[n] == '.') && n &&
		    isdigit((unsigned char)w[n - 1]) &&
		    isdigit((unsigned char)w[n + 1])))
			n++;
		p = w + n;
		/* digits inside the word: each number must be in the evidence */
		{
			size_t i = 0;
			while (i < n) {
				char num[64];
				if (!isdigit((unsigned char)w[i])) {
					i++;
					continue;
				}
				i += read_number(w + i, num, sizeof num);
				if (!number_in(num, corpus)) {
					snprintf(why, whylen, "number %s is not in the "
					    "evidence", num);
					return false;
				}
			}
		}
		if (isupper((unsigned char)w[0]) && !(start && is_common(w, n)) &&
		    !word_in(w, n, corpus)) {
			snprintf(why, whylen, "name \"%.*s\" is not in the evidence",
			    (int)(n > 60 ? 60 : n), w);
			return false;
		}
		start = false;
	}
	return true;
}
