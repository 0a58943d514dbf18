// The benchmark's results (bench/results.json) and their markdown rendering (bench/results.md), with
// the targets and, where one is missed, why (from the measured numbers). Pure: unit-tested
// (tests/unit/bench-report.test.ts).
import type { PlanCase } from "./configs.js";
import type { PlanSample } from "./planOnce.js";
import { fmtRatio, fmtSummary, fmtSummarySeconds, growthExponents, markdownTable, type Summary, summarize } from "./stats.js";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  os: string;
  docker: string;
  node: string;
  /** 1-minute load average when the bench started and ended (other work on the machine skews timings). */
  loadStart: number;
  loadEnd?: number;
}

/** (a) One host count under the real engine, and the shell baseline beside it. Times in ms per run. */
export interface EngineCase {
  hosts: number;
  /** `npm run up`, spawn to exit (bring-up and the stack's verification). */
  upMs: number[];
  /** The verification's own wall time inside each up (its summary line). */
  upVerifyMs: number[];
  /** The up's verification summary line, as printed. */
  upVerifyLine?: string;
  /** The update's own duration as pulumi reports it ("Duration:"), without the CLI's start and exit. */
  upEngineMs: number[];
  /** The slowest resources of the last up, "name N.NN s". */
  upSlowest?: string[];
  /** `npm run preview -- --expect-no-changes` right after the up. */
  previewMs: number[];
  /** `npm run destroy`. */
  destroyMs: number[];
  /** baseline/bringup.sh. */
  scriptBringupMs: number[];
  /** baseline/checks.sh right after it. */
  scriptChecksMs: number[];
  /** Its summary line ("checks: N run, F failed"). */
  scriptChecksLine?: string;
  /** baseline/teardown.sh. */
  scriptTeardownMs: number[];
  /** What labLeftovers found after each teardown (empty: nothing was left). */
  leftovers: string[];
  errors: string[];
}

export interface EngineSection {
  /** Why the section did not run (no engine, no plugins). */
  skipped?: string;
  cases: EngineCase[];
}

/** (b) One `npm run verify` process. */
export interface VerifyRun {
  /** Spawn to exit. */
  wallMs: number;
  code: number | null;
  /** Stopped by the bench's timeout, before any report. */
  timedOut: boolean;
  /** From the report's last byte on stdout to the process's exit. */
  exitAfterReportMs?: number;
  /** From the report: */
  checks?: number;
  reportedWallMs?: number;
  slowestMs?: number;
  slowestId?: string;
  /** CPU the whole machine spent during the run (bench/proc.ts): divided by the cores, the wall time's floor. */
  machineCpuMs?: number;
}

export interface VerifyCase {
  containers: number;
  /** The plan's check count (when the plan holds a list). */
  plannedChecks?: number;
  runs: VerifyRun[];
  /** Unexpected results, "run 2: id: detail". */
  failures: string[];
  errors: string[];
}

/** (c) buildPlan at one size. */
export interface PlanResult extends PlanCase {
  samples: PlanSample[];
  /** The child process, spawn to exit (module loading included). */
  processMs: number[];
  errors: string[];
}

export interface BenchResults {
  version: 2;
  date: string;
  machine: Machine;
  /** Runs of the small cases (verification up to 16 containers, plan). */
  runs: number;
  /** Runs of the big verification cases and of the engine cases. */
  bigRuns: number;
  durationMs: number;
  engine: EngineSection;
  verify: {
    setupMs?: number;
    warmupMs?: number;
    /** The timeout of one verify process. */
    timeoutMs?: number;
    cases: VerifyCase[];
    leftovers: string[];
    errors: string[];
  };
  plan: PlanResult[];
  /** Section-level failures (a section that could not run at all). */
  errors: string[];
  /** Sections skipped by options. */
  skipped: string[];
}

export const TARGETS = {
  /** Verification wall / slowest probe, by container count. */
  verifyRatio: { 50: 1.5, 200: 2 } as Readonly<Record<number, number>>,
  exitAfterReportMs: 300,
  planContainers: 1000,
  planMs: 1000,
  planRssMB: 300,
  /** The default netns lab's host count, whose npm run up has the target. */
  upHosts: 2,
  upRatio: 1.5,
} as const;

export interface TargetCheck {
  what: string;
  target: string;
  measured: string;
  met: boolean | undefined;
  why?: string;
}

const s = (xs: readonly number[]): Summary | undefined => (xs.length > 0 ? summarize(xs) : undefined);
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const num = (xs: readonly (number | undefined)[]): number[] => xs.filter((x): x is number => x !== undefined);

/** Per run: the baseline's bring-up + checks (runs where both ran). */
export function scriptUpMs(c: EngineCase): number[] {
  const n = Math.min(c.scriptBringupMs.length, c.scriptChecksMs.length);
  return Array.from({ length: n }, (_, i) => c.scriptBringupMs[i]! + c.scriptChecksMs[i]!);
}

export function upRatio(c: EngineCase): number | undefined {
  const o = s(c.upMs);
  const b = s(scriptUpMs(c));
  return o && b && b.median > 0 ? o.median / b.median : undefined;
}

export function destroyRatio(c: EngineCase): number | undefined {
  const o = s(c.destroyMs);
  const b = s(c.scriptTeardownMs);
  return o && b && b.median > 0 ? o.median / b.median : undefined;
}

const done = (c: VerifyCase): VerifyRun[] => c.runs.filter((r) => !r.timedOut && r.slowestMs !== undefined);

/** Median process wall / median slowest probe, over the runs that printed a report. */
export function verifyRatio(c: VerifyCase): number | undefined {
  const w = s(done(c).map((r) => r.wallMs));
  const sl = s(num(done(c).map((r) => r.slowestMs)));
  return w && sl && sl.median > 0 ? w.median / sl.median : undefined;
}

/** The wall time's floor when every core is busy: the machine's CPU time over the cores. */
export function cpuFloorMs(run: VerifyRun, cpus: number): number | undefined {
  return run.machineCpuMs !== undefined && cpus > 0 ? run.machineCpuMs / cpus : undefined;
}

/** Median process wall / median CPU floor: 1.0 means the run kept every core busy from start to exit. */
export function verifyFloorRatio(c: VerifyCase, cpus: number): number | undefined {
  const w = s(done(c).map((r) => r.wallMs));
  const f = s(num(done(c).map((r) => cpuFloorMs(r, cpus))));
  return w && f && f.median > 0 ? w.median / f.median : undefined;
}

function verifyWhy(c: VerifyCase, r: BenchResults): string | undefined {
  const runs = done(c);
  const w = s(runs.map((x) => x.wallMs));
  const sl = s(num(runs.map((x) => x.slowestMs)));
  const own = s(num(runs.map((x) => x.reportedWallMs)));
  const cpu = s(num(runs.map((x) => x.machineCpuMs)));
  const checks = runs[0]?.checks;
  if (!w || !sl || checks === undefined) return undefined;
  const perCheck = (own ?? w).median / checks;
  const parts = [
    `${checks} checks: the process took ${sec(w.median)}, the verifier's own wall time ${own ? sec(own.median) : "?"}, the slowest probe ${sec(sl.median)}`,
  ];
  if (cpu) {
    const floor = cpu.median / r.machine.cpus;
    parts.push(
      `the machine spent ${sec(cpu.median)} of CPU during the run (${(cpu.median / checks).toFixed(2)} ms per check: the probe processes in the containers, ` +
        `the docker execs, the daemons' embedded DNS, the verifier), which on ${r.machine.cpus} cores is a floor of ${sec(floor)} for the wall time; ` +
        `the run took ${fmtRatio(w.median / floor)} that floor. The wall time is bound by the CPU the probes need, not by waiting: a probe keeps ` +
        `a core for a few milliseconds and waits for its reply well under a second, so ${checks} probes on ${r.machine.cpus} cores take many ` +
        `times the slowest one; starting more of them at once makes each slower and the whole no faster (docs/verification.md: Verification at scale)`,
    );
  } else {
    parts.push(
      `${perCheck.toFixed(1)} ms of verifier wall time per check on ${r.machine.cpus} cores: the probes, their processes and the daemons' ` +
        `embedded DNS share the cores, so the wall time follows the number of probes, not the slowest single one`,
    );
  }
  if (own && w.median - own.median > 0.25 * w.median) {
    parts.push(`${sec(w.median - own.median)} of the process is outside the verifier (npm, tsx and node starting, the plan, the exit)`);
  }
  return parts.join("; ");
}

/** A case stopped before its report: what the largest finished case says it would have taken. */
function timedOutWhy(c: VerifyCase, r: BenchResults): string {
  const limit = r.verify.timeoutMs !== undefined ? sec(r.verify.timeoutMs) : "the timeout";
  const finished = r.verify.cases.filter((x) => x.containers < c.containers && done(x).length > 0).at(-1);
  let proj = "";
  if (finished && c.plannedChecks !== undefined) {
    const fr = done(finished);
    const own = s(num(fr.map((x) => x.reportedWallMs)))?.median ?? s(fr.map((x) => x.wallMs))!.median;
    const per = own / (fr[0]!.checks ?? 1);
    proj =
      `; ${finished.containers} containers ran ${fr[0]!.checks} checks in ${sec(own)} (${per.toFixed(1)} ms each), ` +
      `so the ${c.plannedChecks} checks of ${c.containers} containers take about ${sec(per * c.plannedChecks)}`;
  }
  return `the verify process was stopped after ${limit} without a report${proj}`;
}

function engineWhy(c: EngineCase): string | undefined {
  const up = s(c.upMs);
  const b = s(c.scriptBringupMs);
  const ch = s(c.scriptChecksMs);
  const v = s(c.upVerifyMs);
  const pv = s(c.previewMs);
  const eng = s(c.upEngineMs);
  if (!up || !b || !ch) return undefined;
  const rest = v ? up.median - v.median : undefined;
  return (
    `npm run up ${sec(up.median)} vs the script's bring-up ${sec(b.median)} + checks ${sec(ch.median)}` +
    (v && rest !== undefined
      ? `; inside the up the verification took ${sec(v.median)} (vs ${sec(ch.median)} for the script's checks) and everything else ${sec(rest)} ` +
        `(vs ${sec(b.median)} for the script's bring-up)` +
        (pv
          ? `; a no-change preview, which starts the engine and the plugins and evaluates the program without touching the lab, takes ${sec(pv.median)}: ` +
            `that fixed cost alone is ${fmtRatio(pv.median / (b.median + ch.median))} the whole baseline, and the bring-up as resources takes the other ${sec(Math.max(0, rest - pv.median))}`
          : "")
      : "") +
    (eng
      ? `; pulumi reports the update itself as ${sec(eng.median)}, so ${sec(Math.max(0, up.median - eng.median))} of the command is npm and the CLI starting and exiting`
      : "") +
    (c.upSlowest?.length ? `; slowest resources: ${c.upSlowest.join(", ")}` : "")
  );
}

/** Every target the bench measures, with its verdict and, where one is missed, why (from the measurements). */
export function targetChecks(r: BenchResults): TargetCheck[] {
  return [...upTarget(r), ...verifyTargets(r), ...exitTarget(r), ...planTargets(r), ...teardownTarget(r)];
}

/** npm run up against the shell baseline, for the target's host count. */
function upTarget(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  if (!r.skipped.includes("engine")) {
    const what = `npm run up, ${TARGETS.upHosts} netns hosts (bring-up + verification) / the shell baseline (same bring-up and checks)`;
    const c = r.engine.cases.find((x) => x.hosts === TARGETS.upHosts);
    if (r.engine.skipped) {
      out.push({ what, target: `<= ${TARGETS.upRatio}x`, measured: "skipped", met: undefined, why: r.engine.skipped });
    } else if (c) {
      const q = upRatio(c);
      const met = q === undefined ? undefined : q <= TARGETS.upRatio;
      const why = met === false ? engineWhy(c) : met === undefined ? c.errors.join("; ") || "no complete run" : undefined;
      out.push({ what, target: `<= ${TARGETS.upRatio}x`, measured: fmtRatio(q), met, ...(why ? { why } : {}) });
    }
  }
  return out;
}

/** npm run verify's wall time against its slowest probe, per container count with a target. */
function verifyTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const c of r.verify.cases) {
    const limit = TARGETS.verifyRatio[c.containers];
    if (limit === undefined) continue;
    const what = `verification, ${c.containers} containers (full plan${c.plannedChecks !== undefined ? `, ${c.plannedChecks} checks` : ""}): npm run verify wall / slowest probe`;
    const q = verifyRatio(c);
    if (q === undefined && c.runs.some((x) => x.timedOut)) {
      out.push({
        what,
        target: `<= ${limit}x`,
        measured: `stopped after ${sec(r.verify.timeoutMs ?? 0)}`,
        met: false,
        why: timedOutWhy(c, r),
      });
      continue;
    }
    const met = q === undefined ? undefined : q <= limit;
    const why =
      met === false ? verifyWhy(c, r) : met === undefined ? [...c.errors, ...r.verify.errors].join("; ") || "no complete run" : undefined;
    out.push({ what, target: `<= ${limit}x`, measured: fmtRatio(q), met, ...(why ? { why } : {}) });
  }
  return out;
}

/** How soon npm run verify exits after its report (the worst run). */
function exitTarget(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const exits = r.verify.cases.flatMap((c) =>
    c.runs.filter((x) => x.exitAfterReportMs !== undefined && !x.timedOut).map((x) => ({ c, ms: x.exitAfterReportMs! })),
  );
  if (exits.length > 0) {
    const worst = exits.reduce((a, b) => (b.ms > a.ms ? b : a));
    const met = worst.ms <= TARGETS.exitAfterReportMs;
    const med = s(exits.map((x) => x.ms))!.median;
    out.push({
      what: "npm run verify exits after its report (worst of all runs)",
      target: `<= ${sec(TARGETS.exitAfterReportMs)}`,
      measured: sec(worst.ms),
      met,
      ...(met
        ? {}
        : {
            why:
              `the slowest exit came ${sec(worst.ms)} after the report's last byte, in a run over ${worst.c.containers} containers ` +
              `(median of all ${exits.length} runs ${sec(med)}): ` +
              (med > TARGETS.exitAfterReportMs
                ? "every run lingers, so something in the process (an open handle, a timer) holds it after the report"
                : "most runs exit in time; the slow one grows with the report's size (freeing and flushing it) or with the machine's load"),
          }),
    });
  }
  return out;
}

/** buildPlan's time and peak memory at the target's container count. */
function planTargets(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const big = r.plan.find((p) => p.containers === TARGETS.planContainers);
  if (big) {
    const t = s(big.samples.map((x) => x.buildMs));
    const m = s(big.samples.map((x) => x.maxRssMB));
    const sample = big.samples[0];
    const small = r.plan.filter((p) => p.containers < big.containers && p.samples.length > 0).at(-1);
    const grow = (key: "buildMs" | "maxRssMB"): string => {
      if (!small || !sample) return "";
      const y0 = s(small.samples.map((x) => x[key]))!.median;
      const y1 = s(big.samples.map((x) => x[key]))!.median;
      const k = growthExponents(
        [small.containers, big.containers],
        [key === "maxRssMB" ? y0 - sample.baseRssMB : y0, key === "maxRssMB" ? y1 - sample.baseRssMB : y1],
      )[0];
      return k !== undefined && Number.isFinite(k)
        ? `; from ${small.containers} to ${big.containers} containers it grows as containers^${k.toFixed(2)}`
        : "";
    };
    const checks = sample?.checks !== undefined ? ` (the plan holds ${sample.checks} checks)` : "";
    const failed = big.errors[0];
    const tmet = t ? t.median < TARGETS.planMs : failed ? false : undefined;
    out.push({
      what: `buildPlan, ${big.containers} containers on ${big.hosts} hosts: time`,
      target: `< ${sec(TARGETS.planMs)}`,
      measured: t ? sec(t.median) : failed ? "failed" : "n/a",
      met: tmet,
      ...(tmet === false ? { why: t ? `buildPlan took ${sec(t.median)}${checks}${grow("buildMs")}` : failed! } : {}),
    });
    const mmet = m ? m.median < TARGETS.planRssMB : failed ? false : undefined;
    out.push({
      what: `buildPlan, ${big.containers} containers: peak RSS of the process`,
      target: `< ${TARGETS.planRssMB} MB`,
      measured: m ? `${m.median.toFixed(0)} MB` : failed ? "failed" : "n/a",
      met: mmet,
      ...(mmet === false
        ? {
            why:
              m && sample
                ? `peak ${m.median.toFixed(0)} MB, of which ${sample.baseRssMB.toFixed(0)} MB is node with the modules loaded before buildPlan; the plan adds ` +
                  `${(m.median - sample.baseRssMB).toFixed(0)} MB${checks}${grow("maxRssMB")}`
                : failed!,
          }
        : {}),
    });
  }
  return out;
}

/** Nothing of any bench lab left behind. */
function teardownTarget(r: BenchResults): TargetCheck[] {
  const out: TargetCheck[] = [];
  const allLeft = [...r.engine.cases.flatMap((c) => c.leftovers), ...r.verify.leftovers];
  if (r.engine.cases.length + r.verify.cases.length > 0) {
    out.push({
      what: "teardown: left behind (labLeftovers)",
      target: "nothing",
      measured: allLeft.length === 0 ? "nothing" : `${allLeft.length} item(s)`,
      met: allLeft.length === 0,
      ...(allLeft.length > 0 ? { why: allLeft.join("; ") } : {}),
    });
  }
  return out;
}

function verdict(t: TargetCheck): string {
  return t.met === undefined ? "not measured" : t.met ? "met" : "**missed**";
}

const cell = (x: Summary | undefined): string => (x ? fmtSummarySeconds(x) : "n/a");

function engineSection(r: BenchResults, out: string[]): void {
  out.push("## a. The real engine: npm run up / preview / destroy beside the shell baseline", "");
  if (r.engine.skipped) {
    out.push(`Skipped: ${r.engine.skipped}`, "");
    return;
  }
  out.push(
    "A private stack (`Pulumi.bench-engine.yaml`: `lab:hostKind: netns`, `lab:hosts`, etcd, one overlay, one busybox per host), " +
      "a private PULUMI_HOME and file backend; each command timed from spawn to exit as a user runs it. " +
      "Baseline: `bench/baseline/bringup.sh` (the same bring-up, one step after another), then `bench/baseline/checks.sh` " +
      "(the same checks as the stack's verification, one `docker exec` per container running its probes, all containers in parallel), " +
      "and `bench/baseline/teardown.sh` (the lab's own teardown scripts, one after another). Engine and baseline alternate which goes first.",
    "",
  );
  out.push(
    markdownTable(
      [
        "hosts",
        "npm run up",
        "of which verification",
        "baseline bring-up + checks",
        "up / baseline",
        "preview (no change)",
        "npm run destroy",
        "baseline teardown",
        "destroy / teardown",
      ],
      r.engine.cases.map((c) => {
        const b = s(c.scriptBringupMs);
        const ch = s(c.scriptChecksMs);
        const sum = s(scriptUpMs(c));
        return [
          String(c.hosts),
          cell(s(c.upMs)),
          cell(s(c.upVerifyMs)),
          sum ? `${fmtSummarySeconds(sum)} (${b ? sec(b.median) : "?"} + ${ch ? sec(ch.median) : "?"})` : "n/a",
          fmtRatio(upRatio(c)),
          cell(s(c.previewMs)),
          cell(s(c.destroyMs)),
          cell(s(c.scriptTeardownMs)),
          fmtRatio(destroyRatio(c)),
        ];
      }),
      ["r", "r", "r", "r", "r", "r", "r", "r", "r"],
    ),
  );
  const lines = r.engine.cases.filter((c) => c.upVerifyLine || c.scriptChecksLine);
  if (lines.length) {
    out.push("", "What each side checked (last run):", "");
    for (const c of lines) out.push(`- ${c.hosts} hosts: stack \`${c.upVerifyLine ?? "?"}\`; baseline \`${c.scriptChecksLine ?? "?"}\``);
  }
  const errs = r.engine.cases.flatMap((c) => c.errors.map((e) => `${c.hosts} hosts: ${e}`));
  if (errs.length) out.push("", "Errors:", "", ...errs.map((e) => `- ${e.split("\n")[0]}`));
  out.push("");
}

function verifySection(r: BenchResults, out: string[]): void {
  out.push("## b. Verification: `npm run verify` wall time vs the slowest single probe", "");
  out.push(
    `2 netns hosts, etcd, one overlay, N busyboxes alternating between the hosts${r.verify.setupMs ? ` (lab set up once in ${sec(r.verify.setupMs)})` : ""}; ` +
      "each case is `npm run verify -- --config <the lab's first N containers>`: the plan's full check list, no thinning. " +
      "Wall: the process from spawn to exit. Slowest probe: the largest per-check time in the report it prints. " +
      `Machine CPU: what every process of the machine spent from spawn to exit (/proc/stat); divided by the ${r.machine.cpus} cores it is the floor no run can beat. ` +
      "Exit after report: from the report's last byte on stdout to the process's exit." +
      (r.verify.warmupMs !== undefined ? ` One unmeasured warm-up run of the smallest case first (${sec(r.verify.warmupMs)}).` : "") +
      (r.verify.timeoutMs !== undefined ? ` A process still running after ${sec(r.verify.timeoutMs)} is stopped.` : ""),
    "",
  );
  out.push(
    markdownTable(
      [
        "containers",
        "checks",
        "runs",
        "process wall",
        "verifier's own wall",
        "slowest probe",
        "wall / slowest",
        "machine CPU",
        "wall / CPU floor",
        "exit after report",
        "unexpected results",
      ],
      r.verify.cases.map((c) => {
        const runs = done(c);
        const stopped = c.runs.filter((x) => x.timedOut).length;
        return [
          String(c.containers),
          String(runs[0]?.checks ?? c.plannedChecks ?? "n/a"),
          `${c.runs.length}${stopped ? ` (${stopped} stopped)` : ""}`,
          runs.length ? cell(s(runs.map((x) => x.wallMs))) : stopped ? `> ${sec(r.verify.timeoutMs ?? 0)}` : "n/a",
          cell(s(num(runs.map((x) => x.reportedWallMs)))),
          cell(s(num(runs.map((x) => x.slowestMs)))),
          fmtRatio(verifyRatio(c)),
          cell(s(num(runs.map((x) => x.machineCpuMs)))),
          fmtRatio(verifyFloorRatio(c, r.machine.cpus)),
          cell(s(num(runs.map((x) => x.exitAfterReportMs)))),
          c.failures.length === 0
            ? "none"
            : `${c.failures.length}: ${c.failures.slice(0, 3).join("; ")}${c.failures.length > 3 ? "; …" : ""}`,
        ];
      }),
      ["r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "l"],
    ),
  );
  const errs = [...r.verify.errors, ...r.verify.cases.flatMap((c) => c.errors.map((e) => `${c.containers} containers, ${e}`))];
  if (errs.length) out.push("", "Errors:", "", ...errs.map((e) => `- ${e.split("\n")[0]}`));
  out.push("");
}

function planSection(r: BenchResults, out: string[]): void {
  out.push("## c. The plan at scale: buildPlan", "");
  out.push(
    "The public `buildPlan` in a fresh process per sample (`bench/planOnce.ts`): dind hosts, classic overlay, Consul; N busyboxes on one overlay " +
      "round-robin over the hosts plus one macvlan container. Peak RSS is the whole process's (`process.resourceUsage().maxRSS`).",
    "",
  );
  out.push(
    markdownTable(
      ["containers", "hosts", "checks", "buildPlan", "process (spawn to exit)", "peak RSS", "RSS before buildPlan"],
      r.plan.map((p) => {
        const first = p.samples[0];
        return [
          String(p.containers),
          String(p.hosts),
          first?.checks !== undefined ? String(first.checks) : "n/a",
          p.samples.length ? cell(s(p.samples.map((x) => x.buildMs))) : `failed: ${p.errors[0]?.split("\n")[0] ?? "?"}`,
          cell(s(p.processMs)),
          p.samples.length ? fmtSummary(s(p.samples.map((x) => x.maxRssMB))!, "MB") : "n/a",
          first ? `${first.baseRssMB.toFixed(0)} MB` : "n/a",
        ];
      }),
      ["r", "r", "r", "r", "r", "r", "r"],
    ),
  );
  out.push("");
}

/** bench/results.md */
export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const out: string[] = [];
  out.push("# Benchmarks", "");
  out.push(
    `Generated by \`npm run bench\` (bench/run.ts) on ${r.date}. Figures are medians with (min–max): ${r.runs} run(s) of the verification ` +
      `cases up to 16 containers, of the plan and of the ${TARGETS.upHosts}-host engine case, ${r.bigRuns} run(s) of the larger verification and engine cases (they take minutes).`,
  );
  out.push("");
  out.push(
    markdownTable(
      ["date", "cores", "memory", "kernel", "docker", "node", "load (1 min) start / end"],
      [
        [
          r.date.slice(0, 10),
          `${m.cpus} × ${m.cpuModel}`,
          `${m.memoryGiB.toFixed(1)} GiB`,
          m.kernel,
          m.docker,
          m.node,
          `${m.loadStart.toFixed(2)} / ${m.loadEnd?.toFixed(2) ?? "?"}`,
        ],
      ],
    ),
  );
  out.push("");
  out.push(`Whole bench: ${(r.durationMs / 60000).toFixed(1)} min.`);
  if (r.skipped.length) out.push(`Skipped by options: ${r.skipped.join(", ")}.`);
  out.push("");

  const targets = targetChecks(r);
  out.push("## Targets", "");
  out.push(
    markdownTable(
      ["measure", "target", "measured", "verdict"],
      targets.map((t) => [t.what, t.target, t.measured, verdict(t)]),
    ),
  );
  const missed = targets.filter((t) => t.met !== true && t.why);
  if (missed.length) {
    out.push("", "Where a target is missed or not measured, and why:", "");
    for (const t of missed) out.push(`- ${t.what}: ${t.why}.`);
  }
  out.push("");
  if (!r.skipped.includes("engine")) engineSection(r, out);
  if (r.verify.cases.length || r.verify.errors.length) verifySection(r, out);
  if (r.plan.length) planSection(r, out);
  const left = [...r.engine.cases.flatMap((c) => c.leftovers), ...r.verify.leftovers];
  if (r.engine.cases.length || r.verify.cases.length) {
    out.push("## d. Teardown", "");
    out.push(
      "After every teardown above, `labLeftovers` (processes, namespaces, mounts, dirs of the lab): " +
        (left.length === 0 ? "nothing was left after any teardown." : `left behind: ${left.join("; ")}.`),
      "",
    );
  }
  if (r.errors.length) out.push("## Errors", "", ...r.errors.map((e) => `- ${e.split("\n")[0]}`), "");
  return out.join("\n");
}
