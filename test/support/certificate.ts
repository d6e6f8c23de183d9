/** A self-signed certificate for localhost and 127.0.0.1, made by openssl in a fresh directory. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface Certificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM: a client's `ca`. */
  pem: Buffer;
  remove(): void;
}

export async function selfSignedCertificate(): Promise<Certificate> {
  const dir = mkdtempSync(join(tmpdir(), 'aac-tls-'));
  const [certFile, keyFile] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
  ]);
  return { certFile, keyFile, pem: readFileSync(certFile), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
