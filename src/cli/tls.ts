// The stack's certificate tool (run by its TLS resources, one process per call):
//   ca --client-dir DIR --ca-name NAME --client-name NAME    a new CA and client certificate: prints them
//                                                            as JSON, writes the client's files to DIR
//   server --cn NAME [--ip A]... [--dns N]...                a server certificate signed by the CA given as
//                                                            JSON on stdin (what `ca` printed): prints it as JSON
//   remove --client-dir DIR                                  removes the client's files (destroy)
// What it prints holds private keys: the stack keeps it as a secret and never logs it.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { removeClientTls, writeClientTls } from "../docker/tls.js";
import { type CaMaterial, generateCa, generateServer } from "../tls/certs.js";

const USAGE = `usage: node --import tsx src/cli/tls.ts ca --client-dir DIR --ca-name NAME --client-name NAME
       node --import tsx src/cli/tls.ts server --cn NAME [--ip ADDRESS]... [--dns NAME]...   (the CA's JSON on stdin)
       node --import tsx src/cli/tls.ts remove --client-dir DIR`;

function caFromJson(text: string): CaMaterial {
  const j = JSON.parse(text) as Partial<CaMaterial>;
  for (const k of ["caCert", "caKey", "clientCert", "clientKey"] as const) {
    if (typeof j[k] !== "string" || j[k] === "") throw new Error(`the CA on stdin has no ${k}: pass what \`tls.ts ca\` printed`);
  }
  return j as CaMaterial;
}

export async function main(argv: string[], readStdin: () => string = () => readFileSync(0, "utf8")): Promise<string> {
  const [cmd, ...rest] = argv;
  const { values: v } = parseArgs({
    args: rest,
    strict: true,
    options: {
      "client-dir": { type: "string" },
      "ca-name": { type: "string" },
      "client-name": { type: "string" },
      cn: { type: "string" },
      ip: { type: "string", multiple: true },
      dns: { type: "string", multiple: true },
    },
  });
  const need = (k: keyof typeof v): string => {
    const x = v[k];
    if (typeof x !== "string" || x === "") throw new Error(`tls ${cmd}: --${k} is required\n${USAGE}`);
    return x;
  };
  switch (cmd) {
    case "ca": {
      const dir = need("client-dir");
      const ca = await generateCa({ caName: need("ca-name"), clientName: need("client-name") });
      writeClientTls(dir, { ca: ca.caCert, cert: ca.clientCert, key: ca.clientKey });
      return JSON.stringify(ca);
    }
    case "server": {
      const ca = caFromJson(readStdin());
      return JSON.stringify(await generateServer(ca, { commonName: need("cn"), ips: v.ip ?? [], dnsNames: v.dns ?? [] }));
    }
    case "remove":
      removeClientTls(need("client-dir"));
      return "";
    default:
      throw new Error(`tls: unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2)).then(
    (out) => process.stdout.write(out ? `${out}\n` : ""),
    (e: unknown) => {
      process.stderr.write(`tls: error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
