#!/usr/bin/env python3
"""Score cp-extract | cp-dedupe output against the labeled corpus.

    evaluate.py LABELS DOCUMENTS SIGNALS

SIGNALS is the NDJSON that `cp-extract | cp-dedupe --emit-updates` wrote
for DOCUMENTS (every document gives one signal, new or update).  Label
semantics: tests/fixtures/labeled/README.md.  Prints one line per figure,

    name<TAB>value<TAB>target<TAB>ok|FAIL

then the misses (lines starting with "# "), and exits 1 when any figure
is under its bar.

Figures:
  theme_micro_f1     asserted (not negated) themes vs labels.themes
  negated_recall     negated themes found as negated (reported, no bar)
  account_accuracy   documents whose account_ids equal labels.accounts
  account_pair_f1    micro F1 over (document, account) pairs (no bar)
  language_accuracy  lang vs labels.lang
  cluster_pair_f1    pairs of documents in one cluster_id vs one label
  pii_recall         labelled PII strings gone from the text and counted
  false_cards        card redactions beyond the labelled cards (must be 0)
  not_pii_kept       decoy strings (order numbers, Luhn-failing digits,
                     accession numbers) that survive; bar 0.95, ours
  boilerplate_dropped, body_kept   sentences (whitespace collapsed)
"""
import itertools
import json
import re
import sys

BARS = {
    "theme_micro_f1": 0.85,
    "account_accuracy": 0.95,
    "language_accuracy": 0.95,
    "cluster_pair_f1": 0.90,
    "pii_recall": 1.0,
    "false_cards": 0,
    "not_pii_kept": 0.95,
    "boilerplate_dropped": 0.95,
    "body_kept": 0.95,
}


def ws(s):
    return re.sub(r"\s+", " ", s).strip()


def load(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def f1(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return 2 * p * r / (p + r) if p + r else 0.0, p, r


def main():
    labels = {l["document_id"]: l for l in load(sys.argv[1])}
    docs = {d["id"]: d for d in load(sys.argv[2])}
    sigs = {}
    for s in load(sys.argv[3]):
        sigs.setdefault(s["document_id"], s)
    miss = []
    out = {}

    # themes
    tp = fp = fn = ntp = nfn = 0
    for did, lab in labels.items():
        s = sigs.get(did)
        if s is None:
            miss.append("no signal for %s (%s)" % (did, lab["key"]))
            continue
        got = {t["theme"] for t in s.get("themes", []) if not t.get("negated")}
        neg = {t["theme"] for t in s.get("themes", []) if t.get("negated")}
        want = set(lab["themes"])
        for t in got & want:
            tp += 1
        for t in got - want:
            fp += 1
            miss.append("theme FP %s %s" % (lab["key"], t))
        for t in want - got:
            fn += 1
            miss.append("theme FN %s %s" % (lab["key"], t))
        for t in lab.get("negated_themes", []):
            if t in neg:
                ntp += 1
            else:
                nfn += 1
                miss.append("negation missed %s %s" % (lab["key"], t))
    out["theme_micro_f1"], p, r = f1(tp, fp, fn)
    out["theme_precision"], out["theme_recall"] = p, r
    out["negated_recall"] = ntp / (ntp + nfn) if ntp + nfn else 1.0

    # accounts
    ok = atp = afp = afn = 0
    for did, lab in labels.items():
        s = sigs.get(did, {})
        got, want = set(s.get("account_ids", [])), set(lab["accounts"])
        if got == want:
            ok += 1
        else:
            miss.append("accounts %s: got %s want %s" % (lab["key"], sorted(got), sorted(want)))
        atp += len(got & want)
        afp += len(got - want)
        afn += len(want - got)
    out["account_accuracy"] = ok / len(labels)
    out["account_pair_f1"] = f1(atp, afp, afn)[0]

    # language
    ok = 0
    for did, lab in labels.items():
        got = sigs.get(did, {}).get("lang")
        if got == lab["lang"]:
            ok += 1
        else:
            miss.append("lang %s: got %s want %s" % (lab["key"], got, lab["lang"]))
    out["language_accuracy"] = ok / len(labels)

    # clusters
    ids = sorted(labels)
    if all("cluster_id" in sigs.get(d, {}) for d in ids):
        ctp = cfp = cfn = 0
        for a, b in itertools.combinations(ids, 2):
            same_l = labels[a]["cluster"] == labels[b]["cluster"]
            same_p = sigs[a]["cluster_id"] == sigs[b]["cluster_id"]
            if same_l and same_p:
                ctp += 1
            elif same_p:
                cfp += 1
                miss.append("cluster FP %s ~ %s" % (labels[a]["key"], labels[b]["key"]))
            elif same_l:
                cfn += 1
                miss.append("cluster FN %s ~ %s" % (labels[a]["key"], labels[b]["key"]))
        out["cluster_pair_f1"], out["cluster_precision"], out["cluster_recall"] = f1(ctp, cfp, cfn)
    else:
        out["cluster_pair_f1"] = None

    # PII
    found = total = false_cards = kept = decoys = 0
    for did, lab in labels.items():
        s = sigs.get(did, {})
        text = ws(s.get("text", ""))
        body = ws(docs[did].get("body", ""))
        for v in lab["pii_values"]:
            total += 1
            if ws(v) not in text:
                found += 1
            else:
                miss.append("PII kept %s: %s" % (lab["key"], v))
        counts = s.get("pii", {})
        for kind, n in lab["pii"].items():
            if counts.get(kind, 0) != n:
                miss.append("PII count %s %s: got %s want %s" % (lab["key"], kind, counts.get(kind, 0), n))
        false_cards += max(0, counts.get("card", 0) - lab["pii"].get("card", 0))
        for v in lab.get("not_pii", []):
            if ws(v) in body:
                decoys += 1
                if ws(v) in text:
                    kept += 1
                else:
                    miss.append("decoy lost %s: %s" % (lab["key"], v))
    out["pii_recall"] = found / total if total else 1.0
    out["false_cards"] = false_cards
    out["not_pii_kept"] = kept / decoys if decoys else 1.0

    # main text
    bk = bt = dk = dt = 0
    for did, lab in labels.items():
        text = ws(sigs.get(did, {}).get("text", ""))
        for s in lab["body_sentences"]:
            bt += 1
            if ws(s) in text:
                bk += 1
            else:
                miss.append("body sentence lost %s: %s" % (lab["key"], s[:80]))
        for s in lab["boilerplate_sentences"]:
            dt += 1
            if ws(s) not in text:
                dk += 1
            else:
                miss.append("boilerplate kept %s: %s" % (lab["key"], s[:80]))
    out["boilerplate_dropped"] = dk / dt if dt else 1.0
    out["body_kept"] = bk / bt if bt else 1.0

    failed = False
    for name, value in out.items():
        bar = BARS.get(name)
        if value is None:
            print("%s\t-\t%s\tFAIL" % (name, bar))
            failed = True
            continue
        if bar is None:
            print("%s\t%.3f\t-\t-" % (name, value))
            continue
        good = value <= bar if name == "false_cards" else value >= bar
        failed |= not good
        fmt = "%s\t%d\t%s\t%s" if name == "false_cards" else "%s\t%.3f\t%s\t%s"
        print(fmt % (name, value, bar, "ok" if good else "FAIL"))
    for m in miss:
        print("# " + m)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
