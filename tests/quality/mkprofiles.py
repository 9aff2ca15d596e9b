#!/usr/bin/env python3
"""Build the language profiles lib/data/lang/XX.txt from training text.

    python3 tests/quality/mkprofiles.py tests/fixtures/extract/lang lib/data/lang

Each training file NAME.txt (plain text in the language NAME, ISO 639-1)
becomes NAME.txt in the output directory: one character trigram per line,
"<trigram>\t<count>", most frequent first.  Trigrams are taken the way
lib/lang.c takes them: letters lower-cased, every run of non-letters one
space, words padded with a space on each side ("the" gives " th", "the",
"he ").  
"""
import collections
import os
import sys


def trigrams(text):
    words = []
    cur = []
    for ch in text.lower():
        if ch.isalpha():
            cur.append(ch)
        elif cur:
            words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    for w in words:
        w = " " + w + " "
        for i in range(len(w) - 2):
            yield w[i:i + 3]


def main():
    src, dst = sys.argv[1], sys.argv[2]
    for name in sorted(os.listdir(src)):
        if not name.endswith(".txt"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            counts = collections.Counter(trigrams(f.read()))
        with open(os.path.join(dst, name), "w", encoding="utf-8") as out:
            out.write("# %s character trigrams (tests/quality/mkprofiles.py)\n"
                      % name[:-4])
            for tri, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
                if n > 0:
                    out.write("%s\t%d\n" % (tri, n))


if __name__ == "__main__":
    main()
