#!/usr/bin/env python3
"""fake_llm.py -- a local OpenAI-compatible chat-completions endpoint for
the cp-card suite.

    fake_llm.py PORTFILE LOGFILE

Binds 127.0.0.1 on a free port, writes the port to PORTFILE and answers
POST /v1/chat/completions (and /chat/completions) in the documented
OpenAI format:

    {"id":"chatcmpl-…","object":"chat.completion","created":…,
     "model":…,"choices":[{"index":0,"message":{"role":"assistant",
     "content":"…"},"finish_reason":"stop"}],"usage":{…}}

How it behaves is chosen by the request's "model", so a test picks it in
its configuration:

    faithful   rewrites the draft narrative it was sent, adding no fact
    inventive  the same, plus a name and a number that are in no evidence
    prose      answers in prose, not the JSON object asked for
    slow       waits 5 seconds before answering (longer than the test's
               timeout)
    flaky      503 for the first two requests, then faithful
    broken     500 every time

Every request is appended to LOGFILE as one JSON line:
{"path","model","auth","response_format","n"} where auth is the
Authorization header as received (tests check the key was sent).
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTFILE, LOGFILE = sys.argv[1], sys.argv[2]
lock = threading.Lock()
counts = {}


def rewrite(draft, invent):
    out = {}
    for key in ("what_happened", "why_it_matters", "why_now", "next_step"):
        text = draft.get(key, "")
        out[key] = "In short: " + text if key == "what_happened" else text
    if invent:
        out["why_it_matters"] += " Globex saw 37 similar deals last year."
    return out


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
        with lock:
            counts[model] = counts.get(model, 0) + 1
            seen = counts[model]
            with open(LOGFILE, "a") as f:
                f.write(json.dumps({
                    "path": self.path, "model": model,
                    "auth": self.headers.get("Authorization"),
                    "response_format": req.get("response_format"),
                    "n": seen}) + "\n")
        if not self.path.endswith("/chat/completions"):
            return self.reply(404, {"error": {"message": "not found"}})
        if model == "broken" or (model == "flaky" and seen <= 2):
            return self.reply(503 if model == "flaky" else 500,
                              {"error": {"message": "overloaded"}})
        if model == "slow":
            time.sleep(5)
        try:
            user = json.loads(req["messages"][-1]["content"])
            draft = user.get("draft") or {}
        except (KeyError, IndexError, ValueError, TypeError):
            draft = {}
        if model == "prose":
            content = "Here is a brief: the account had some news."
        else:
            content = json.dumps(rewrite(draft, model == "inventive"))
        self.reply(200, {
            "id": "chatcmpl-%d" % seen, "object": "chat.completion",
            "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {
                "role": "assistant", "content": content},
                "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 50,
                      "total_tokens": 150}})


srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
srv.daemon_threads = True
with open(PORTFILE + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
