#!/usr/bin/env python3
"""tests/promparse.py -- a strict parser of the Prometheus text exposition
format (version 0.0.4), for the cp-metrics suite.

    promparse.py [FILE]        parse FILE (or stdin); print every sample as
                               one JSON line {"name","labels","value"}
                               and exit 0, or print the first problem as
                               "promparse: LINE: reason" and exit 1

What is checked, after the format's documentation
(prometheus.io/docs/instrumenting/exposition_formats):

* the text is UTF-8 and ends with a newline; lines are separated by \\n
  only; no empty lines;
* "# HELP name text" and "# TYPE name type" at most once per family, the
  TYPE before the family's first sample, type one of counter, gauge,
  histogram, summary, untyped; other "#" lines are comments;
* metric names match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
  [a-zA-Z_][a-zA-Z0-9_]* and do not start with "__"; label values are
  quoted, with \\\\, \\" and \\n the only escapes; no label twice;
* the value is a Go float (NaN, +Inf, -Inf allowed), the optional
  timestamp an integer (milliseconds);
* a family's samples are contiguous (not interleaved with another's),
  and no series (name and label set) appears twice;
* samples of a typed family use its name, or for a histogram
  name_bucket / name_sum / name_count, for a summary name / name_sum /
  name_count; counters are named *_total (the convention OpenMetrics
  made a rule);
* histograms: every label set has _bucket lines with an "le" label, "+Inf"
  among them, le values parseable and ascending, counts non-decreasing,
  the +Inf bucket equal to _count, and _sum and _count present; "le" is
  not used elsewhere.
"""
import json
import math
import re
import sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
TYPES = {'counter', 'gauge', 'histogram', 'summary', 'untyped'}
FLOAT = re.compile(r'^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|'
                   r'Inf|inf|NaN|nan)$')


class Bad(Exception):
    pass


def parse_value(s, what):
    if not FLOAT.match(s):
        raise Bad(f'{what} {s!r} is not a number')
    return float(s)


def parse_labels(s, i):
    """s[i] == '{'; returns (labels dict, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == '}':
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad(f'bad label name at column {i + 1}')
        name = m.group(0)
        if name.startswith('__'):
            raise Bad(f'label name {name!r} is reserved')
        if name in labels:
            raise Bad(f'label {name!r} given twice')
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad(f'expected =" after label {name!r}')
        i += 2
        out = []
        while True:
            if i >= len(s):
                raise Bad(f'unterminated value of label {name!r}')
            c = s[i]
            if c == '\\':
                e = s[i + 1:i + 2]
                if e not in ('\\', '"', 'n'):
                    raise Bad(f'bad escape \\{e} in label {name!r}')
                out.append('\n' if e == 'n' else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == '\n':
                raise Bad('newline inside a label value')
            else:
                out.append(c)
                i += 1
        labels[name] = ''.join(out)
        if s[i:i + 1] == ',':
            i += 1
            continue
        if s[i:i + 1] != '}':
            raise Bad(f'expected , or }} after label {name!r}')


def family_of(name, types):
    """The family a sample name belongs to, given the declared types."""
    for suffix in ('_bucket', '_sum', '_count'):
        if name.endswith(suffix):
            base = name[:-len(suffix)]
            t = types.get(base)
            if t == 'histogram' or (t == 'summary' and suffix != '_bucket'):
                return base
    return name


def parse(text):
    if not text.endswith('\n'):
        raise Bad('the text does not end with a newline')
    if '\r' in text:
        raise Bad('carriage return in the text')
    types, helps, done, seen = {}, {}, set(), set()
    current = None
    samples = []
    for ln, line in enumerate(text[:-1].split('\n'), 1):
        try:
            if line == '':
                raise Bad('empty line')
            if line.startswith('#'):
                parts = line.split(' ', 3)
                if len(parts) >= 3 and parts[1] in ('HELP', 'TYPE'):
                    name = parts[2]
                    if not NAME.fullmatch(name):
                        raise Bad(f'bad metric name {name!r}')
                    if name in done:
                        raise Bad(f'{parts[1]} for {name} after its samples')
                    if parts[1] == 'HELP':
                        if name in helps:
                            raise Bad(f'second HELP for {name}')
                        helps[name] = parts[3] if len(parts) > 3 else ''
                    else:
                        if name in types:
                            raise Bad(f'second TYPE for {name}')
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise Bad(f'bad TYPE line for {name}')
                        if name in {family_of(s['name'], types)
                                    for s in samples}:
                            raise Bad(f'TYPE for {name} after its samples')
                        types[name] = parts[3]
                        if parts[3] == 'counter' and not name.endswith('_total'):
                            raise Bad(f'counter {name} is not named *_total')
                    if current and current != name:
                        done.add(current)
                    current = name
                continue
            m = NAME.match(line)
            if not m:
                raise Bad('a sample line must start with a metric name')
            name, i = m.group(0), m.end()
            labels = {}
            if line[i:i + 1] == '{':
                labels, i = parse_labels(line, i)
            if line[i:i + 1] != ' ':
                raise Bad('expected a space before the value')
            rest = line[i + 1:].split(' ')
            if len(rest) not in (1, 2) or '' in rest:
                raise Bad('expected a value and an optional timestamp')
            value = parse_value(rest[0], 'value')
            if len(rest) == 2 and not re.fullmatch(r'-?\d+', rest[1]):
                raise Bad(f'timestamp {rest[1]!r} is not an integer')
            fam = family_of(name, types)
            if fam in done:
                raise Bad(f'samples of {fam} are not contiguous')
            if current and current != fam:
                done.add(current)
            current = fam
            t = types.get(fam, 'untyped')
            if t == 'histogram' and name == fam:
                raise Bad(f'histogram {fam} sample without a suffix')
            if 'le' in labels and not (t == 'histogram' and
                                       name.endswith('_bucket')):
                raise Bad(f'label le outside a histogram bucket ({name})')
            if t == 'histogram' and name.endswith('_bucket') and 'le' not in labels:
                raise Bad(f'bucket of {fam} without le')
            key = (name, tuple(sorted(labels.items())))
            if key in seen:
                raise Bad(f'series {name}{labels} given twice')
            seen.add(key)
            samples.append({'name': name, 'labels': labels, 'value': value,
                            'line': ln})
        except Bad as e:
            raise Bad(f'{ln}: {e}')
    check_histograms(samples, types)
    return samples


def check_histograms(samples, types):
    for fam, t in types.items():
        if t != 'histogram':
            continue
        sets = {}
        for s in samples:
            if family_of(s['name'], types) != fam:
                continue
            base = tuple(sorted((k, v) for k, v in s['labels'].items()
                                if k != 'le'))
            d = sets.setdefault(base, {'buckets': [], 'sum': None,
                                       'count': None, 'line': s['line']})
            if s['name'] == fam + '_bucket':
                le = parse_value(s['labels']['le'].replace('+Inf', 'Inf'),
                                 'le')
                d['buckets'].append((le, s['value'], s['line']))
            elif s['name'] == fam + '_sum':
                d['sum'] = s['value']
            else:
                d['count'] = s['value']
        for base, d in sets.items():
            where = f'{d["line"]}: histogram {fam}{dict(base)}'
            b = d['buckets']
            if not b:
                raise Bad(f'{where} has no buckets')
            if d['sum'] is None or d['count'] is None:
                raise Bad(f'{where} lacks _sum or _count')
            if not math.isinf(b[-1][0]):
                raise Bad(f'{where}: the last bucket is not le="+Inf"')
            for (l1, c1, _), (l2, c2, ln) in zip(b, b[1:]):
                if not l2 > l1:
                    raise Bad(f'{ln}: histogram {fam}: le not ascending')
                if c2 < c1:
                    raise Bad(f'{ln}: histogram {fam}: bucket counts '
                              'decrease')
            if b[-1][1] != d['count']:
                raise Bad(f'{where}: +Inf bucket {b[-1][1]} != _count '
                          f'{d["count"]}')


def main():
    data = open(sys.argv[1], 'rb').read() if len(sys.argv) > 1 \
        else sys.stdin.buffer.read()
    try:
        text = data.decode('utf-8')
        samples = parse(text)
    except UnicodeDecodeError:
        print('promparse: the text is not UTF-8', file=sys.stderr)
        return 1
    except Bad as e:
        print(f'promparse: {e}', file=sys.stderr)
        return 1
    for s in samples:
        v = s['value']
        print(json.dumps({'name': s['name'], 'labels': s['labels'],
                          'value': v if math.isfinite(v) else str(v)},
                         sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
