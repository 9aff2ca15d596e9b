#!/usr/bin/env python3
"""fake_crm.py -- local HubSpot, Salesforce and webhook receiver for the
cp-push suites.

    fake_crm.py PORTFILE [--hubspot-token T] [--salesforce-token T]
                         [--webhook-secret S] [--key-property P]
                         [--key-field F] [--seed N]

Binds 127.0.0.1 on a free port, writes the port to PORTFILE and serves
until killed.  It implements the subset of the vendors' APIs cp-push
uses, with their paths, methods, bearer authentication, request and
response bodies and error formats:

HubSpot CRM v3 (errors: {"status":"error","message","correlationId",
"category"}; 429: "errorType":"RATE_LIMIT" and "policyName"):
    POST /crm/v3/objects/companies/search          filterGroups, EQ only
    POST /crm/v3/objects/{notes,tasks,deals}        properties, associations
    POST /crm/v3/objects/{notes,tasks,deals}/search
    GET  /crm/v3/objects/{type}/{id}
  Properties are checked against each object's (default ones plus the
  key property): an unknown one is a 400 VALIDATION_ERROR, as HubSpot
  answers when the custom property was not created.  Creating never
  deduplicates (HubSpot does not): a duplicate push shows as two objects.

Salesforce REST (errors: [{"message","errorCode","fields"}], every
answer carries Sforce-Limit-Info: api-usage=N/M):
    GET   /services/data/vNN.N/query?q=SOQL         the three query shapes
    PATCH /services/data/vNN.N/sobjects/{Task,Opportunity}/FIELD/VALUE
    GET   /services/data/vNN.N/sobjects/TYPE/FIELD/VALUE
    POST  /services/data/vNN.N/sobjects/{Note,Task,Opportunity}/
    GET   /services/data/vNN.N/sobjects/TYPE/ID

Webhook: POST /hook checks X-ClientPulse-Signature (HMAC-SHA256 of
timestamp "." body) and records each delivery with its Idempotency-Key.

Control (no authentication; tests only):
    POST /_seed    {"companies":[{"id","domain","name"}],
                    "accounts":[{"Id","Website","Name"}]}
    POST /_faults  a list of faults, replacing the current one:
                   {"match": regex on "METHOD /path", "fault": KIND,
                    "times": N (default 1, -1 always), "skip": N,
                    "prob": P, "retry_after": S, "stall": S}
                   KIND: 429 (ten-secondly, or Salesforce's 429), daily
                   (HubSpot DAILY 429), 500 (nothing stored), 500_after
                   (stored, then 500), stall (stored, then silence for
                   "stall" seconds), reset (connection reset, nothing
                   stored), reset_after (stored, then reset), 401, 400
                   (validation error), sf_limit (403
                   REQUEST_LIMIT_EXCEEDED), limit_low (answer normally
                   with api-usage at 99%)
    POST /_config  {"search_lag": S, "api_limit": M, "delay": S}
                   (search_lag: objects appear in searches only S seconds
                   after creation, as HubSpot's index trails; delay: every
                   answer waits S seconds)
    POST /_reset   forget objects, deliveries, requests and faults
    GET  /_state   everything created, deliveries and the request log
"""
import hashlib
import hmac
import json
import os
import random
import re
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = {"--hubspot-token": "hs-test-token", "--salesforce-token":
        "sf-test-token", "--webhook-secret": "wh-test-secret",
        "--key-property": "clientpulse_key", "--key-field":
        "ClientPulse_Key__c", "--seed": "1"}
PORTFILE = sys.argv[1]
_a = sys.argv[2:]
while _a:
    ARGS[_a[0]] = _a[1]
    _a = _a[2:]

LOCK = threading.Lock()
RNG = random.Random(int(ARGS["--seed"]))
KEYP = ARGS["--key-property"]
KEYF = ARGS["--key-field"]

HS_PROPS = {
    "notes": {"hs_timestamp", "hs_note_body", "hubspot_owner_id"},
    "tasks": {"hs_timestamp", "hs_task_subject", "hs_task_body",
              "hs_task_status", "hs_task_priority", "hs_task_type",
              "hubspot_owner_id"},
    "deals": {"dealname", "dealstage", "pipeline", "amount", "closedate",
              "deal_currency_code", "description", "hubspot_owner_id"},
}
HS_ASSOC = {"notes": 190, "tasks": 192, "deals": 5}
HS_STAGES = {"appointmentscheduled", "qualifiedtobuy",
             "presentationscheduled", "decisionmakerboughtin",
             "contractsent", "closedwon", "closedlost"}
SF_FIELDS = {
    "Task": {"Subject", "ActivityDate", "Status", "Priority", "WhatId",
             "Description", "OwnerId", KEYF},
    "Opportunity": {"Name", "StageName", "CloseDate", "Amount",
                    "AccountId", "Description", "OwnerId", KEYF},
    "Note": {"ParentId", "Title", "Body"},
}
SF_PREFIX = {"Account": "001", "Note": "002", "Opportunity": "006",
             "Task": "00T"}


def fresh():
    return {"companies": {}, "hs": {"notes": {}, "tasks": {}, "deals": {}},
            "accounts": {}, "sf": {"Task": {}, "Opportunity": {}, "Note": {}},
            "deliveries": [], "requests": [], "faults": [], "seq": 100,
            "config": {"search_lag": 0.0, "api_limit": 15000, "delay": 0},
            "api_used": 0, "created_at": {}}


S = fresh()


def now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())


def next_id():
    S["seq"] += 1
    return S["seq"]


def sf_id(kind):
    return "%s%012dAAA" % (SF_PREFIX[kind], next_id())


class Reset(Exception):
    pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body in one segment: no Nagle / delayed-ACK stalls
    disable_nagle_algorithm = True
    wbufsize = 1 << 16

    def log_message(self, *a):
        pass

    # ---- plumbing -------------------------------------------------------
    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        self.raw = raw
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return "bad"

    def send(self, status, obj, headers=None):
        data = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        if obj is not None:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if data:
            self.wfile.write(data)
        self.status = status

    def reset(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        raise Reset()

    def handle(self):
        try:
            super().handle()
        except (Reset, ConnectionError, OSError, ValueError):
            self.close_connection = True

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass

    # ---- faults -----------------------------------------------------------
    def pick_fault(self, line):
        for f in S["faults"]:
            if not re.search(f.get("match", ""), line):
                continue
            if f.get("skip", 0) > 0:
                f["skip"] -= 1
                continue
            if f.get("times", 1) == 0:
                continue
            if "prob" in f and RNG.random() >= f["prob"]:
                continue
            if f.get("times", 1) > 0:
                f["times"] = f.get("times", 1) - 1
            return dict(f)
        return None

    def vendor(self):
        if self.path.startswith("/crm/"):
            return "hubspot"
        if self.path.startswith("/services/"):
            return "salesforce"
        return "webhook"

    def fail_before(self, f):
        """Faults answered without touching state; True when answered."""
        k = f["fault"]
        v = self.vendor()
        ra = {"Retry-After": str(f["retry_after"])} if "retry_after" in f \
            else {}
        if k == "reset":
            self.reset()
        if k == "429":
            if v == "hubspot":
                self.send(429, {"status": "error", "message": "You have "
                                "reached your ten_secondly_rolling limit.",
                                "errorType": "RATE_LIMIT", "correlationId":
                                str(uuid.uuid4()), "policyName":
                                "TEN_SECONDLY_ROLLING", "groupName":
                                "publicapi:private-app:1"}, ra)
            else:
                self.send(429, [{"message": "Too many requests",
                                 "errorCode": "REQUEST_LIMIT_EXCEEDED"}], ra)
            return True
        if k == "daily":
            self.send(429, {"status": "error", "message": "You have reached "
                            "your daily limit.", "errorType": "RATE_LIMIT",
                            "correlationId": str(uuid.uuid4()), "policyName":
                            "DAILY"})
            return True
        if k == "500":
            if v == "salesforce":
                self.send(500, [{"message": "An unexpected error occurred. "
                                 "Please include this ErrorId if you contact "
                                 "support: 1234-5678", "errorCode":
                                 "UNKNOWN_EXCEPTION"}], ra)
            else:
                self.send(500, {"status": "error", "message": "internal "
                                "error", "correlationId": str(uuid.uuid4()),
                                "category": "INTERNAL_ERROR"}, ra)
            return True
        if k == "401":
            self.unauthorized(v)
            return True
        if k == "400":
            if v == "salesforce":
                self.send(400, [{"message": "Required fields are missing: "
                                 "[Name]", "errorCode":
                                 "REQUIRED_FIELD_MISSING", "fields":
                                 ["Name"]}])
            else:
                self.send(400, {"status": "error", "message": "Property "
                                "values were not valid: [{\"isValid\":false,"
                                "\"message\":\"dealstage is not a valid "
                                "option\",\"name\":\"dealstage\"}]",
                                "correlationId": str(uuid.uuid4()),
                                "category": "VALIDATION_ERROR"})
            return True
        if k == "sf_limit":
            self.send(403, [{"message": "TotalRequests Limit exceeded.",
                             "errorCode": "REQUEST_LIMIT_EXCEEDED"}])
            return True
        return False

    def unauthorized(self, v):
        if v == "salesforce":
            self.send(401, [{"message": "Session expired or invalid",
                             "errorCode": "INVALID_SESSION_ID"}])
        elif v == "hubspot":
            self.send(401, {"status": "error", "message": "Authentication "
                            "credentials not found. This API supports OAuth "
                            "2.0 authentication.", "correlationId":
                            str(uuid.uuid4()), "category":
                            "INVALID_AUTHENTICATION"})
        else:
            self.send(401, {"error": "bad signature"})

    # ---- dispatch ---------------------------------------------------------
    def serve(self, method):
        self.status = 0
        self.extra = {}
        u = urllib.parse.urlsplit(self.path)
        body = self.body_json()
        line = "%s %s" % (method, u.path)
        if u.path.startswith("/_"):
            return self.control(method, u.path, body)
        with LOCK:
            f = self.pick_fault(line)
            if f and f["fault"] == "reset":
                S["requests"].append({"m": method, "p": u.path, "s": 0,
                                      "fault": "reset"})
        if f and self.fail_before(f):
            self.log_req(method, u.path, f)
            return
        if not self.authorized():
            self.unauthorized(self.vendor())
            self.log_req(method, u.path, None)
            return
        with LOCK:
            if self.vendor() == "salesforce":
                S["api_used"] += 1
                used = S["api_used"]
                if f and f["fault"] == "limit_low":
                    used = int(S["config"]["api_limit"] * 0.99)
                self.extra["Sforce-Limit-Info"] = "api-usage=%d/%d" % (
                    used, S["config"]["api_limit"])
            status, obj = self.route(method, u, body)
        if S["config"].get("delay"):
            time.sleep(float(S["config"]["delay"]))
        if f and f["fault"] == "stall":
            time.sleep(float(f.get("stall", 3)))
        if f and f["fault"] == "reset_after":
            self.log_req(method, u.path, f, status)
            self.reset()
        if f and f["fault"] == "500_after":
            status, obj = 500, {"status": "error", "message": "internal",
                                "category": "INTERNAL_ERROR"}
        self.send(status, obj, self.extra)
        self.log_req(method, u.path, f)

    def log_req(self, method, path, f, status=None):
        with LOCK:
            S["requests"].append({"m": method, "p": path,
                                  "s": status or self.status,
                                  "fault": f["fault"] if f else None})

    def authorized(self):
        v = self.vendor()
        if v == "webhook":
            return True
        want = ARGS["--hubspot-token" if v == "hubspot" else
                    "--salesforce-token"]
        return self.headers.get("Authorization") == "Bearer " + want

    def do_GET(self):
        self.serve("GET")

    def do_POST(self):
        self.serve("POST")

    def do_PATCH(self):
        self.serve("PATCH")

    def do_HEAD(self):
        self.send(200, None)

    # ---- control ------------------------------------------------------------
    def control(self, method, path, body):
        global S
        with LOCK:
            if path == "/_seed":
                for c in body.get("companies", []):
                    S["companies"][str(c["id"])] = {
                        "id": str(c["id"]), "properties": {
                            "domain": c.get("domain"), "name": c.get("name"),
                            "hs_object_id": str(c["id"])}}
                for a in body.get("accounts", []):
                    S["accounts"][a["Id"]] = a
                self.send(200, {"ok": True})
            elif path == "/_faults":
                S["faults"] = body or []
                self.send(200, {"ok": True})
            elif path == "/_config":
                S["config"].update(body or {})
                self.send(200, {"ok": True})
            elif path == "/_reset":
                keep = (S["companies"], S["accounts"], S["config"])
                S = fresh()
                S["companies"], S["accounts"], S["config"] = keep
                self.send(200, {"ok": True})
            elif path == "/_state":
                self.send(200, {"hubspot": {t: list(v.values()) for t, v in
                                            S["hs"].items()},
                                "salesforce": {t: list(v.values()) for t, v
                                               in S["sf"].items()},
                                "deliveries": S["deliveries"],
                                "requests": S["requests"],
                                "api_used": S["api_used"]})
            else:
                self.send(404, {"error": "no such control"})

    # ---- the APIs -------------------------------------------------------------
    def route(self, method, u, body):
        p = u.path
        m = re.fullmatch(r"/crm/v3/objects/(\w+)/search", p)
        if m and method == "POST":
            return self.hs_search(m.group(1), body)
        m = re.fullmatch(r"/crm/v3/objects/(notes|tasks|deals)", p)
        if m and method == "POST":
            return self.hs_create(m.group(1), body)
        m = re.fullmatch(r"/crm/v3/objects/(\w+)/(\d+)", p)
        if m and method == "GET":
            return self.hs_get(m.group(1), m.group(2))
        m = re.fullmatch(r"/services/data/v\d+\.\d/query", p)
        if m and method == "GET":
            q = urllib.parse.parse_qs(u.query).get("q", [""])[0]
            return self.sf_query(q)
        m = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/(\w+)/(\w+)/(.+)",
                         p)
        if m and method in ("PATCH", "GET"):
            return self.sf_by_ext(method, m.group(1), m.group(2),
                                  urllib.parse.unquote(m.group(3)), body)
        m = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/(\w+)/?", p)
        if m and method == "POST":
            return self.sf_create(m.group(1), body)
        m = re.fullmatch(r"/services/data/v\d+\.\d/sobjects/(\w+)/(\w+)", p)
        if m and method == "GET":
            return self.sf_get(m.group(1), m.group(2))
        if p == "/hook" and method == "POST":
            return self.hook()
        if p.startswith("/crm/"):
            return 404, {"status": "error", "message": "Unable to route %s "
                         "request with %s" % (method, p), "category":
                         "OBJECT_NOT_FOUND"}
        return 404, [{"errorCode": "NOT_FOUND", "message": "The requested "
                      "resource does not exist"}]

    # HubSpot ------------------------------------------------------------------
    def hs_error(self, status, category, message):
        return status, {"status": "error", "message": message,
                        "correlationId": str(uuid.uuid4()),
                        "category": category}

    def hs_search(self, kind, body):
        if not isinstance(body, dict):
            return self.hs_error(400, "VALIDATION_ERROR", "Invalid input "
                                 "JSON on line 1")
        store = S["companies"] if kind == "companies" else S["hs"].get(kind)
        if store is None:
            return self.hs_error(400, "VALIDATION_ERROR", "Unable to infer "
                                 "object type from: %s" % kind)
        try:
            flt = body["filterGroups"][0]["filters"][0]
            prop, op, val = flt["propertyName"], flt["operator"], flt["value"]
        except (KeyError, IndexError, TypeError):
            return self.hs_error(400, "VALIDATION_ERROR", "filterGroups "
                                 "missing")
        if op != "EQ":
            return self.hs_error(400, "VALIDATION_ERROR", "only EQ here")
        lag = float(S["config"].get("search_lag", 0))
        out = []
        for o in store.values():
            if o["properties"].get(prop) != val:
                continue
            if lag and time.time() - S["created_at"].get(
                    (kind, o["id"]), 0) < lag:
                continue     # not indexed yet, as in HubSpot
            props = {k: o["properties"].get(k) for k in
                     body.get("properties", [])}
            props["hs_object_id"] = o["id"]
            out.append({"id": o["id"], "properties": props,
                        "createdAt": o.get("createdAt"),
                        "updatedAt": o.get("updatedAt"), "archived": False})
        lim = int(body.get("limit", 10))
        return 200, {"total": len(out), "results": out[:lim]}

    def hs_create(self, kind, body):
        if not isinstance(body, dict) or not isinstance(
                body.get("properties"), dict):
            return self.hs_error(400, "VALIDATION_ERROR", "Invalid input "
                                 "JSON: properties required")
        props = body["properties"]
        allowed = HS_PROPS[kind] | {KEYP}
        bad = [k for k in props if k not in allowed]
        if bad:
            return self.hs_error(400, "VALIDATION_ERROR", "Property values "
                                 "were not valid: " + json.dumps([
                                     {"isValid": False, "message": "Property "
                                      "\"%s\" does not exist" % k, "error":
                                      "PROPERTY_DOESNT_EXIST", "name": k}
                                     for k in bad]))
        if kind in ("notes", "tasks") and not props.get("hs_timestamp"):
            return self.hs_error(400, "VALIDATION_ERROR", "Property values "
                                 "were not valid: hs_timestamp is required")
        if kind == "deals" and props.get("dealstage") not in HS_STAGES:
            return self.hs_error(400, "VALIDATION_ERROR", "Property values "
                                 "were not valid: [{\"isValid\":false,"
                                 "\"message\":\"%s was not one of the "
                                 "allowed options\",\"name\":\"dealstage\"}]"
                                 % props.get("dealstage"))
        for a in body.get("associations", []):
            to = str(a.get("to", {}).get("id"))
            types = [t.get("associationTypeId") for t in a.get("types", [])]
            if to not in S["companies"]:
                return self.hs_error(400, "VALIDATION_ERROR", "One or more "
                                     "associations are invalid: no company "
                                     + to)
            if HS_ASSOC[kind] not in types:
                return self.hs_error(400, "VALIDATION_ERROR", "invalid "
                                     "association type %s" % types)
        oid = str(next_id())
        ts = now_iso()
        stored = dict(props)
        stored.update({"hs_object_id": oid, "hs_createdate": ts,
                       "hs_lastmodifieddate": ts})
        obj = {"id": oid, "properties": stored, "createdAt": ts,
               "updatedAt": ts, "archived": False,
               "associations": body.get("associations", [])}
        S["hs"][kind][oid] = obj
        S["created_at"][(kind, oid)] = time.time()
        return 201, {k: obj[k] for k in ("id", "properties", "createdAt",
                                         "updatedAt", "archived")}

    def hs_get(self, kind, oid):
        store = S["companies"] if kind == "companies" else S["hs"].get(kind)
        if store is None or oid not in store:
            return self.hs_error(404, "OBJECT_NOT_FOUND", "Object not found."
                                 "  objectId are usually numeric.")
        o = store[oid]
        return 200, {"id": oid, "properties": o["properties"],
                     "createdAt": o.get("createdAt"),
                     "updatedAt": o.get("updatedAt"), "archived": False}

    # Salesforce ---------------------------------------------------------------
    def sf_err(self, status, code, msg, fields=None):
        e = {"message": msg, "errorCode": code}
        if fields is not None:
            e["fields"] = fields
        return status, [e]

    def sf_rec(self, kind, rec):
        out = {"attributes": {"type": kind, "url":
                              "/services/data/v60.0/sobjects/%s/%s" %
                              (kind, rec["Id"])}}
        out.update(rec)
        return out

    def sf_query(self, q):
        m = re.fullmatch(r"SELECT Id, Website FROM Account WHERE Website LIKE "
                         r"'%([^']*)%' LIMIT (\d+)", q)
        if m:
            recs = [self.sf_rec("Account", {"Id": a["Id"], "Website":
                                            a.get("Website")})
                    for a in S["accounts"].values()
                    if m.group(1) in (a.get("Website") or "")]
            return 200, {"totalSize": len(recs), "done": True,
                         "records": recs[:int(m.group(2))]}
        m = re.fullmatch(r"SELECT Id FROM Note WHERE Title LIKE '%([^']*)%' "
                         r"LIMIT (\d+)", q)
        if m:
            recs = [self.sf_rec("Note", {"Id": n["Id"]})
                    for n in S["sf"]["Note"].values()
                    if m.group(1) in n.get("Title", "")]
            return 200, {"totalSize": len(recs), "done": True,
                         "records": recs[:int(m.group(2))]}
        m = re.fullmatch(r"SELECT Id FROM (\w+) WHERE (\w+) = '([^']*)' "
                         r"LIMIT (\d+)", q)
        if m and m.group(1) in S["sf"]:
            recs = [self.sf_rec(m.group(1), {"Id": r["Id"]})
                    for r in S["sf"][m.group(1)].values()
                    if r.get(m.group(2)) == m.group(3)]
            return 200, {"totalSize": len(recs), "done": True,
                         "records": recs[:int(m.group(4))]}
        return self.sf_err(400, "MALFORMED_QUERY", "unexpected token: " + q)

    def sf_check(self, kind, body, create):
        if not isinstance(body, dict):
            return self.sf_err(400, "JSON_PARSER_ERROR", "Cannot deserialize "
                               "instance of %s from VALUE_STRING" % kind)
        for k in body:
            if k not in SF_FIELDS[kind]:
                return self.sf_err(400, "INVALID_FIELD", "No such column "
                                   "'%s' on sobject of type %s" % (k, kind))
        need = {"Opportunity": ["Name", "StageName", "CloseDate"],
                "Note": ["ParentId", "Title"], "Task": []}[kind]
        missing = [k for k in need if create and not body.get(k)]
        if missing:
            return self.sf_err(400, "REQUIRED_FIELD_MISSING", "Required "
                               "fields are missing: [%s]" % ", ".join(missing),
                               missing)
        if kind == "Note" and len(body.get("Title", "")) > 80:
            return self.sf_err(400, "STRING_TOO_LONG", "Title: data value "
                               "too large", ["Title"])
        for ref in ("WhatId", "AccountId", "ParentId"):
            if ref in body and body[ref] not in S["accounts"]:
                return self.sf_err(400, "INVALID_CROSS_REFERENCE_KEY",
                                   "invalid cross reference id", [ref])
        return None

    def sf_by_ext(self, method, kind, field, value, body):
        if kind not in ("Task", "Opportunity"):
            return self.sf_err(404, "NOT_FOUND", "The requested resource "
                               "does not exist")
        if field != KEYF:
            return self.sf_err(404, "NOT_FOUND", "Provided external ID field "
                               "does not exist or is not accessible: " + field)
        store = S["sf"][kind]
        hits = [r for r in store.values() if r.get(KEYF) == value]
        if method == "GET":
            if not hits:
                return self.sf_err(404, "NOT_FOUND", "The requested resource "
                                   "does not exist")
            return 200, self.sf_rec(kind, hits[0])
        if len(hits) > 1:
            return 300, ["/services/data/v60.0/sobjects/%s/%s" % (kind, r["Id"])
                         for r in hits]
        err = self.sf_check(kind, body, not hits)
        if err:
            return err
        if hits:
            hits[0].update(body)
            return 200, {"id": hits[0]["Id"], "success": True, "errors": [],
                         "created": False}
        rec = dict(body)
        rec["Id"] = sf_id(kind)
        rec[KEYF] = value
        rec["CreatedDate"] = now_iso()
        store[rec["Id"]] = rec
        return 201, {"id": rec["Id"], "success": True, "errors": [],
                     "created": True}

    def sf_create(self, kind, body):
        if kind not in S["sf"]:
            return self.sf_err(404, "NOT_FOUND", "The requested resource "
                               "does not exist")
        err = self.sf_check(kind, body, True)
        if err:
            return err
        rec = dict(body)
        rec["Id"] = sf_id(kind)
        rec["CreatedDate"] = now_iso()
        S["sf"][kind][rec["Id"]] = rec
        return 201, {"id": rec["Id"], "success": True, "errors": []}

    def sf_get(self, kind, oid):
        if kind == "Account" and oid in S["accounts"]:
            return 200, self.sf_rec(kind, S["accounts"][oid])
        rec = S["sf"].get(kind, {}).get(oid)
        if not rec:
            return self.sf_err(404, "NOT_FOUND", "The requested resource "
                               "does not exist")
        return 200, self.sf_rec(kind, rec)

    # webhook --------------------------------------------------------------------
    def hook(self):
        ts = self.headers.get("X-ClientPulse-Timestamp", "")
        sig = self.headers.get("X-ClientPulse-Signature", "")
        key = self.headers.get("Idempotency-Key", "")
        want = "sha256=" + hmac.new(ARGS["--webhook-secret"].encode(),
                                    ts.encode() + b"." + self.raw,
                                    hashlib.sha256).hexdigest()
        if not hmac.compare_digest(sig, want):
            return 401, {"error": "bad signature"}
        seen = [d for d in S["deliveries"] if d["key"] == key]
        S["deliveries"].append({"key": key, "ts": ts,
                                "card": json.loads(self.raw or b"null"),
                                "duplicate": bool(seen)})
        return 200, {"id": "wh_%s" % key[4:16], "duplicate": bool(seen)}


def main():
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = PORTFILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, PORTFILE)
    srv.serve_forever()


if __name__ == "__main__":
    main()
