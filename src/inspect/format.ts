// The inspect report as aligned text tables (hosts, networks, containers, last verification).
import { summaryLine } from "../verify/report.js";
import type { InspectReport } from "./collect.js";

function pad(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - text.length));
}

/** Columns separated by two spaces, each as wide as its widest cell; the last column is not padded. */
export function alignedTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i < cells.length - 1 ? pad(c, widths[i]!) : c))
      .join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

const dash = (v: string | number | undefined): string => (v === undefined || v === "" ? "-" : String(v));

export function formatInspect(r: InspectReport): string {
  const out: string[] = [];
  const kv = r.kv ? `, KV ${r.kv.url}` : "";
  out.push(
    `lab ${r.lab}: ${r.hostKind} hosts, ${r.overlayMode} overlay${kv} — ${r.healthy ? "healthy" : "NOT healthy"} (${r.inspectedAt})`,
  );
  out.push("");

  out.push("HOSTS");
  out.push(
    alignedTable(
      ["NAME", "KIND", "ADDRESS", "ENDPOINT", "REACHABLE", "DOCKER", "MODE"],
      r.hosts.map((h) => [
        h.name,
        h.kind,
        h.address,
        h.endpoint,
        h.reachable ? "yes" : `no (${(h.error ?? "").split("\n")[0]!.slice(0, 80)})`,
        dash(h.dockerVersion),
        h.reachable ? `${dash(h.mode)}${h.hostname && h.hostname !== h.name ? ` [hostname ${h.hostname}]` : ""}` : "-",
      ]),
    ),
  );
  out.push("");

  out.push("NETWORKS");
  const netRows: string[][] = [];
  for (const n of r.networks) {
    const subnet = n.subnet === n.plannedSubnet ? n.subnet : `${n.subnet} (planned ${n.plannedSubnet})`;
    const vni = n.vni === undefined ? "-" : `${n.vni}`;
    n.hosts.forEach((h, i) => {
      const presence = h.present === undefined ? "unknown" : h.present ? dash(h.id) : "absent";
      netRows.push(
        i === 0
          ? [n.name, n.driver, dash(n.scope), subnet, vni, h.host, presence, dash(h.ipRange)]
          : ["", "", "", "", "", h.host, presence, dash(h.ipRange)],
      );
    });
  }
  out.push(alignedTable(["NAME", "DRIVER", "SCOPE", "SUBNET", "VNI", "HOST", "ID", "IP-RANGE"], netRows));
  out.push("");

  out.push("CONTAINERS");
  out.push(
    alignedTable(
      ["NAME", "HOST", "STATE", "IPS", "PROBLEMS"],
      r.containers.map((c) => [
        c.name,
        c.host,
        c.state,
        Object.entries(c.ips)
          .map(([net, ip]) => `${net}=${ip}`)
          .join(", ") || "-",
        c.problems.join("; ") || "-",
      ]),
    ),
  );
  out.push("");

  out.push("FAULTS (lab:faults)");
  if (r.faults.length === 0) out.push("  none");
  else
    out.push(
      alignedTable(
        ["HOST", "NAME", "KIND", "SETTING", "STATE", "SINCE", "EFFECT"],
        r.faults.map((f) => [
          f.host,
          f.name,
          f.kind,
          f.setting,
          f.state === "unknown" ? `unknown (${(f.why ?? "").slice(0, 60)})` : f.state,
          dash(f.since),
          f.state === "stale"
            ? "recorded on the host, no longer in the plan (npm run up, or npm run lab -- apply, removes it)"
            : dash(f.effect),
        ]),
      ),
    );
  out.push("");

  const v = r.lastVerification;
  out.push(`LAST VERIFICATION (${v.file})`);
  if (!v.found) {
    out.push(v.error ? `  ${v.error}` : `  none saved; run: npm run verify -- --save ${v.file}`);
  } else if (v.error || !v.summary) {
    out.push(`  unreadable: ${v.error ?? "no summary"}`);
  } else {
    const when = v.startedAt ? ` at ${v.startedAt}` : "";
    const wall = v.wallMs !== undefined ? ` in ${(v.wallMs / 1000).toFixed(2)}s` : "";
    out.push(`  ${v.ok ? "OK" : "FAILED"}: lab ${dash(v.lab)}${when}${wall}${v.otherLab ? ` (another lab than ${r.lab})` : ""}`);
    out.push(`  ${summaryLine(v.summary)}`);
    for (const f of (v.failed ?? []).slice(0, 10)) out.push(`  - ${f.id}: ${f.detail.split("\n")[0]}`);
    if ((v.failed?.length ?? 0) > 10) out.push(`  - ... and ${v.failed!.length - 10} more`);
  }
  return `${out.join("\n")}\n`;
}
