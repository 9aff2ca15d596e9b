#!/usr/bin/env python3
"""fetchd.py -- the local HTTP server behind the cp-fetch suites.

    fetchd.py ROOT PORTFILE [--edgar DIR] [--tls CERT KEY]

Binds 127.0.0.1 on a free port, writes the port to PORTFILE, and serves
ROOT until killed.  Files are served as they are on disk at the time of
each request (tests rewrite them between runs), with a strong ETag (hash
of the content) and Last-Modified, answering conditional requests with
304.  Every request is appended to ROOT/requests.log as one line:

    METHOD TARGET t=EPOCH ua=... inm=... ims=... ae=...

(TARGET as sent: a proxied request shows its absolute URL.)

Misbehaviour per path comes from ROOT/_behave.json, read on every
request, e.g.

    {"/feed.xml": {"status": 503, "times": 2, "retry_after": "1"}}

keys: status (with times: only the first N requests), retry_after,
stall (seconds of silence after the headers), delay (seconds before
answering), etag ("random" changes every time, "none" sends none),
ignore_conditional (never 304), redirect (Location, with status 302 by
default), content_type, gzip (compress when the client accepts it),
body_size (serve that many bytes of a generated RSS feed), body (a
literal body).

--tls CERT KEY serves HTTPS with that certificate (a self-signed one in
the tests: the client must refuse it).

--edgar DIR serves SEC responses from the edgar corpus: /submissions/*
from DIR/sample_api_responses, /files/company_tickers.json (generated
for the companies in it), and /Archives/edgar/data/CIK/ACC/FILE, the
documents inside the full submission texts in DIR/sample_filings.
"""
import email.utils
import gzip
import hashlib
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1])
PORTFILE = sys.argv[2]
EDGAR = None
TLS = None
_args = sys.argv[3:]
while _args:
    if _args[0] == '--edgar' and len(_args) > 1:
        EDGAR = os.path.abspath(_args[1])
        _args = _args[2:]
    elif _args[0] == '--tls' and len(_args) > 2:
        TLS = (_args[1], _args[2])
        _args = _args[3:]
    else:
        sys.exit('usage: fetchd.py ROOT PORTFILE [--edgar DIR] [--tls CERT KEY]')

counts = {}
lock = threading.Lock()


def behaviour(path):
    try:
        with open(os.path.join(ROOT, '_behave.json')) as f:
            return json.load(f).get(path, {})
    except (OSError, ValueError):
        return {}


def edgar_documents():
    """{(cik, acc_nodash, filename): bytes} from the full submissions."""
    docs = {}
    if not EDGAR:
        return docs
    d = os.path.join(EDGAR, 'sample_filings')
    for name in sorted(os.listdir(d)):
        if not name.endswith('.txt'):
            continue
        with open(os.path.join(d, name), 'rb') as f:
            text = f.read()
        acc = re.search(rb'ACCESSION NUMBER:\s*(\S+)', text)
        cik = re.search(rb'CENTRAL INDEX KEY:\s*(\d+)', text)
        if not acc or not cik:
            continue
        acc = acc.group(1).decode().replace('-', '')
        cik = str(int(cik.group(1)))
        for m in re.finditer(rb'<DOCUMENT>(.*?)</DOCUMENT>', text, re.S):
            doc = m.group(1)
            fn = re.search(rb'<FILENAME>([^\r\n]+)', doc)
            body = re.search(rb'<TEXT>\r?\n?(.*)</TEXT>', doc, re.S)
            if fn and body:
                docs[(cik, acc, fn.group(1).decode().strip())] = body.group(1)
    return docs


EDGAR_DOCS = edgar_documents()


def edgar_tickers():
    out, i = {}, 0
    d = os.path.join(EDGAR, 'sample_api_responses')
    for name in sorted(os.listdir(d)):
        if re.match(r'CIK\d{10}\.json$', name):
            with open(os.path.join(d, name)) as f:
                j = json.load(f)
            for t in j.get('tickers', []):
                out[str(i)] = {'cik_str': int(j['cik']), 'ticker': t,
                               'title': j.get('name', '')}
                i += 1
    return json.dumps(out).encode()


def rss_of_size(n):
    head = b'<?xml version="1.0"?><rss version="2.0"><channel><title>big</title>'
    item = b'<item><title>x</title><link>http://x.invalid/</link><description>' \
        + b'y' * 1000 + b'</description></item>'
    body = head
    while len(body) < n:
        body += item
    return body + b'</channel></rss>'


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def log_request_line(self):
        h = self.headers
        line = '%s %s t=%.3f ua=%s inm=%s ims=%s ae=%s\n' % (
            self.command, self.path, time.time(), h.get('User-Agent', '-'),
            h.get('If-None-Match', '-'), h.get('If-Modified-Since', '-'),
            h.get('Accept-Encoding', '-'))
        with lock:
            with open(os.path.join(ROOT, 'requests.log'), 'a') as f:
                f.write(line)

    def send(self, status, body, headers=(), stall=0):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        if stall:
            self.wfile.flush()
            time.sleep(stall)
        if self.command != 'HEAD':
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def content(self, path):
        """(bytes, content type) for a path, or None."""
        if EDGAR:
            m = re.match(r'/submissions/(CIK[\w.-]+\.json)$', path)
            if m:
                p = os.path.join(EDGAR, 'sample_api_responses', m.group(1))
                if os.path.isfile(p):
                    with open(p, 'rb') as f:
                        return f.read(), 'application/json'
            if path == '/files/company_tickers.json':
                return edgar_tickers(), 'application/json'
            m = re.match(r'/Archives/edgar/data/(\d+)/(\d+)/(.+)$', path)
            if m and (m.group(1), m.group(2), m.group(3)) in EDGAR_DOCS:
                return EDGAR_DOCS[(m.group(1), m.group(2), m.group(3))], \
                    'text/html'
        p = os.path.normpath(os.path.join(ROOT, path.lstrip('/')))
        if not p.startswith(ROOT + os.sep) or not os.path.isfile(p):
            return None
        with open(p, 'rb') as f:
            data = f.read()
        ctype = 'application/octet-stream'
        for ext, t in (('.xml', 'application/xml'), ('.rss', 'application/rss+xml'),
                       ('.atom', 'application/atom+xml'), ('.json', 'application/json'),
                       ('.html', 'text/html; charset=utf-8'), ('.txt', 'text/plain')):
            if p.endswith(ext):
                ctype = t
        return data, ctype

    def do_GET(self):
        self.log_request_line()
        target = urllib.parse.urlsplit(self.path)
        path = target.path
        b = behaviour(path)
        with lock:
            n = counts[path] = counts.get(path, 0) + 1
        if b.get('delay'):
            time.sleep(b['delay'])
        if 'status' in b and n <= b.get('times', 1 << 30):
            hdrs = []
            if 'retry_after' in b:
                hdrs.append(('Retry-After', b['retry_after']))
            if 'redirect' in b:
                hdrs.append(('Location', b['redirect']))
            body = b.get('body', '').encode()
            if 'content_type' in b:
                hdrs.append(('Content-Type', b['content_type']))
            return self.send(b['status'], body, hdrs)
        if 'redirect' in b:
            return self.send(302, b'', [('Location', b['redirect'])])
        if 'body_size' in b:
            got = (rss_of_size(b['body_size']), 'application/rss+xml')
        elif 'body' in b:
            got = (b['body'].encode(), b.get('content_type', 'text/plain'))
        else:
            got = self.content(path)
        if got is None:
            return self.send(404, b'{"status":404,"error":"not found"}',
                             [('Content-Type', 'application/json')])
        data, ctype = got
        ctype = b.get('content_type', ctype)
        etag = '"%s"' % hashlib.sha256(data).hexdigest()[:16]
        if b.get('etag') == 'random':
            etag = '"%d-%f"' % (n, time.time())
        mtime = email.utils.formatdate(1700000000, usegmt=True)
        hdrs = [('Content-Type', ctype), ('Last-Modified', mtime),
                ('Date', email.utils.formatdate(usegmt=True))]
        if b.get('etag') != 'none':
            hdrs.append(('ETag', etag))
        if not b.get('ignore_conditional'):
            inm = self.headers.get('If-None-Match')
            if inm and inm == etag:
                return self.send(304, b'', hdrs)
            if not inm and self.headers.get('If-Modified-Since') == mtime:
                return self.send(304, b'', hdrs)
        if b.get('gzip') and 'gzip' in self.headers.get('Accept-Encoding', ''):
            data = gzip.compress(data)
            hdrs.append(('Content-Encoding', 'gzip'))
        return self.send(200, data, hdrs, stall=b.get('stall', 0))

    do_HEAD = do_GET


def main():
    srv = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    if TLS:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(TLS[0], TLS[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = PORTFILE + '.tmp'
    with open(tmp, 'w') as f:
        f.write('%d\n' % srv.server_address[1])
    os.rename(tmp, PORTFILE)
    srv.serve_forever()


if __name__ == '__main__':
    main()
