// The dind lab's certificates: one CA per lab, a client certificate for the lab's tools and the docker
// provider, and a server certificate per host. Keys are ECDSA P-256, made and used by node's own
// WebCrypto; @peculiar/x509 only writes the X.509 structures (the SANs, key usages and constraints).
import "reflect-metadata"; // @peculiar/x509's dependency injection (tsyringe) needs it, in this process only
import { randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { ServerCertPlan, TlsPlan } from "../model/index.js";

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** As long as the official dind image's own certificates live: a lab is not kept longer than that. */
export const CERT_VALID_DAYS = 825;

/** The lab's CA and its client: what the stack keeps as secrets, and writes (the client's part) for the tools. */
export interface CaMaterial {
  caCert: string;
  caKey: string;
  clientCert: string;
  clientKey: string;
}

export interface ServerMaterial {
  cert: string;
  key: string;
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // a positive INTEGER
  return b.toString("hex");
}

function validity(now: Date): { notBefore: Date; notAfter: Date } {
  // An hour back: a host whose clock is a little behind still accepts a certificate made just now.
  return { notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + CERT_VALID_DAYS * 86400_000) };
}

async function keyPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

async function importKey(pem: string): Promise<CryptoKey> {
  return (await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(pem), ALG, false, ["sign"])) as CryptoKey;
}

function dn(commonName: string): string {
  // A name is the lab's own text: keep it to what needs no escaping in a distinguished name.
  return `CN=${commonName.replace(/[^A-Za-z0-9 ._-]/g, "_")}`;
}

/** A leaf certificate signed by the CA, for a server (SANs) or a client. */
async function leaf(
  ca: CaMaterial,
  subject: string,
  usage: "server" | "client",
  sans: { ips: string[]; dnsNames: string[] },
  now: Date,
): Promise<ServerMaterial> {
  const caCert = new x509.X509Certificate(ca.caCert);
  const keys = await keyPair();
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
    new x509.ExtendedKeyUsageExtension([usage === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  const names = [
    ...sans.ips.map((value) => ({ type: "ip" as const, value })),
    ...sans.dnsNames.map((value) => ({ type: "dns" as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: dn(subject),
    issuer: caCert.subject,
    ...validity(now),
    publicKey: keys.publicKey,
    signingKey: await importKey(ca.caKey),
    signingAlgorithm: ALG,
    extensions,
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

/** A new CA for the lab, and the client certificate everything that drives the hosts presents. */
export async function generateCa(names: Pick<TlsPlan, "caName" | "clientName">, now: Date = new Date()): Promise<CaMaterial> {
  const keys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: dn(names.caName),
    ...validity(now),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      // pathLength 0: it signs the lab's leaves and no other CA.
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const partial: CaMaterial = { caCert: ca.toString("pem"), caKey: await keyPem(keys.privateKey), clientCert: "", clientKey: "" };
  const client = await leaf(partial, names.clientName, "client", { ips: [], dnsNames: [] }, now);
  return { ...partial, clientCert: client.cert, clientKey: client.key };
}

/** A host's server certificate: what a client may reach its API by (127.0.0.1, its underlay address, its name). */
export function generateServer(ca: CaMaterial, plan: ServerCertPlan, now: Date = new Date()): Promise<ServerMaterial> {
  return leaf(ca, plan.commonName, "server", plan, now);
}
