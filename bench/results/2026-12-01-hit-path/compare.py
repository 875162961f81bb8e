"""Before/after tables from two bench runs' results.json (same command, two server builds):
    python3 compare.py BEFORE_DIR AFTER_DIR"""
import json, sys
before, after = sys.argv[1], sys.argv[2]
def load(d):
    out = {}
    for r in json.load(open(f"{d}/results.json"))["runs"]:
        out[(r["backend"], r["workload"])] = r
    return out
b, a = load(before), load(after)
backends = []
for (be, _w) in a:
    if be not in backends: backends.append(be)
ws = ["W0", "W1", "W2", "W3", "W4"]
print("| server | workload | before req/s | after req/s | after/before | before p99 ms | after p99 ms | after ÷ its W0 |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for be in backends:
    w0 = a.get((be, "W0"))
    for w in ws:
        if (be, w) not in a or (be, w) not in b: continue
        rb, ra = b[(be, w)], a[(be, w)]
        tb, ta = rb["throughput_rps"], ra["throughput_rps"]
        pb, pa = rb["latency_us"]["p99"] / 1000, ra["latency_us"]["p99"] / 1000
        ratio0 = f"{ta / w0['throughput_rps']:.2f}" if w0 and w != "W0" else "–"
        print(f"| {be} | {w} | {tb:,.0f} | {ta:,.0f} | {ta / tb:.2f} | {pb:.2f} | {pa:.2f} | {ratio0} |")
