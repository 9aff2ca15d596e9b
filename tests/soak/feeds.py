#!/usr/bin/env python3
"""feeds.py DOCS OUTDIR N [FRACTION] — the document records of
tests/bench/gen as N RSS 2.0 feeds (OUTDIR/feed-01.xml …), items dealt
out in turn, so that cp-fetch reads them as news sources: title, link,
guid (the document id), pubDate, and the HTML body as the description
(CDATA).  FRACTION (default 1) releases only the first part of the
documents: the soak calls it again and again with a growing fraction, so
the feeds grow as real ones do.  Each file is replaced whole (written
aside, then renamed): a reader never sees half a feed.  The soak's
pipelines fetch overlapping sets of these files."""
import email.utils
import json
import os
import sys
from datetime import datetime, timezone


def rfc822(s):
    d = datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return email.utils.format_datetime(d)


def main():
    docs, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    frac = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
    os.makedirs(out, exist_ok=True)
    with open(docs) as f:
        lines = f.readlines()
    lines = lines[:int(len(lines) * min(frac, 1.0))]
    items = [[] for _ in range(n)]
    for i, line in enumerate(lines):
        items[i % n].append(json.loads(line))
    for k in range(n):
        path = os.path.join(out, "feed-%02d.xml" % (k + 1))
        with open(path + ".tmp", "w") as f:
            f.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<rss version="2.0"><channel><title>Soak wire %d</title>'
                    '<link>https://wire%d.example/</link>\n' % (k + 1, k + 1))
            for d in items[k]:
                body = d["body"].replace("]]>", "]]]]><![CDATA[>")
                f.write("<item><title><![CDATA[%s]]></title><link>%s</link>"
                        "<guid isPermaLink=\"false\">%s</guid>"
                        "<pubDate>%s</pubDate>"
                        "<description><![CDATA[%s]]></description></item>\n"
                        % (d["title"].replace("]]>", ""), d["url"], d["id"],
                           rfc822(d["published_at"]), body))
            f.write("</channel></rss>\n")
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
