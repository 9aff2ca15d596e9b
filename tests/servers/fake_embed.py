#!/usr/bin/env python3
"""fake_embed.py -- a local OpenAI-compatible embeddings endpoint for the
cp-search suite.

    fake_embed.py PORTFILE LOGFILE

Binds 127.0.0.1 on a free port, writes the port to PORTFILE and answers
POST /v1/embeddings (and /embeddings) in the documented OpenAI format:

    {"object":"list","data":[{"object":"embedding","index":0,
     "embedding":[...]}, ...],"model":...,"usage":{...}}

The vectors are deterministic: a hashed bag of words (DIM dimensions, a
word's bucket is the first bytes of its MD5), where the words of a few
small concept groups share one bucket -- "downsizing", "layoffs" and
"job cuts" mean the same here, as they would to a real model.  So a test
can tell the semantic ranking (which finds "downsizing" in a card about
job cuts) from the lexical one (which does not).

How it behaves is chosen by the request's "model":

    hashbag    the vectors above (DIM = 64)
    wide       the same with 96 dimensions (a model change)
    reversed   the data array in reverse order (each item's "index" says
               where it belongs)
    broken     500 every time
    garbage    200 with a body that is not embeddings
    short      one embedding fewer than asked for
    nan        a vector holding a string where a number should be

Every request is appended to LOGFILE as one JSON line:
{"path","model","auth","n"} where auth is the Authorization header as
received (tests check the key was sent) and n the number of inputs.
"""
import hashlib
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
lock = threading.Lock()

CONCEPTS = {
    "workforce_reduction": "layoff layoffs downsizing downsize redundancies "
                           "redundancy cut cuts jobs job restructuring",
    "finance_leader": "cfo financial finance treasurer controller",
    "acquisition": "acquire acquires acquired acquisition merger takeover "
                   "buyout buy",
    "cyberattack": "ransomware breach hack hacked cyberattack attack malware",
    "new_site": "plant factory facility site opens expansion expand",
    "fundraise": "raises raised funding round series investors capital",
}
WORD_CONCEPT = {w: c for c, ws in CONCEPTS.items() for w in ws.split()}
STOP = set("a an and the of to in on for as at by with is are was were be "
           "it its this that from or has have will said says".split())


def vector(text, dim):
    v = [0.0] * dim
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        if w in STOP:
            continue
        key = WORD_CONCEPT.get(w, w)
        b = int.from_bytes(hashlib.md5(key.encode()).digest()[:4], "big")
        v[b % dim] += 1.0
    return v


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            req = json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return self.reply(400, {"error": {"message": "bad json"}})
        model = req.get("model", "")
        inputs = req.get("input", [])
        if isinstance(inputs, str):
            inputs = [inputs]
        with lock:
            with open(LOGFILE, "a") as f:
                f.write(json.dumps({
                    "path": self.path, "model": model,
                    "auth": self.headers.get("Authorization"),
                    "n": len(inputs)}) + "\n")
        if not self.path.endswith("/embeddings"):
            return self.reply(404, {"error": {"message": "not found"}})
        if model == "broken":
            return self.reply(500, {"error": {"message": "overloaded"}})
        if model == "garbage":
            return self.reply(200, {"choices": [{"text": "hello"}]})
        dim = 96 if model == "wide" else 64
        data = [{"object": "embedding", "index": i,
                 "embedding": vector(t, dim)} for i, t in enumerate(inputs)]
        if model == "short":
            data = data[:-1]
        if model == "nan" and data:
            data[0]["embedding"][0] = "NaN"
        if model == "reversed":
            data.reverse()
        self.reply(200, {"object": "list", "data": data, "model": model,
                         "usage": {"prompt_tokens": 10 * len(inputs),
                                   "total_tokens": 10 * len(inputs)}})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
