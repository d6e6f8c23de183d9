/** With TLS_CERT_FILE and TLS_KEY_FILE the API serves HTTPS and nothing older than TLS 1.3. */
import { request } from 'node:https';
import { connect, type ConnectionOptions } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate, type Certificate } from './support/certificate';
import { startEngine, type Engine } from './support/engine';

describe('the API over TLS', () => {
  let engine: Engine;
  let certificate: Certificate;
  let ca: Buffer;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    ca = certificate.pem;
    engine = await startEngine({ worker: false, env: { TLS_CERT_FILE: certificate.certFile, TLS_KEY_FILE: certificate.keyFile } });
  });
  afterAll(async () => {
    await engine?.stop();
    certificate?.remove();
  });

  const handshake = (versions: Pick<ConnectionOptions, 'minVersion' | 'maxVersion'>) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: engine.api.port, ca, servername: 'localhost', ...versions }, () => {
        const protocol = socket.getProtocol() ?? 'none';
        socket.end();
        resolve(protocol);
      });
      socket.once('error', reject);
    });

  it('when a client offers at most TLS 1.2 then the handshake is refused', async () => {
    await expect(handshake({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).rejects.toThrow(/protocol version/i);
  });

  it('when a client speaks TLS 1.3 then the API answers over HTTPS', async () => {
    expect(await handshake({ minVersion: 'TLSv1.3' })).toBe('TLSv1.3');
    expect(engine.api.url).toMatch(/^https:/);
    const status = await new Promise<number>((resolve, reject) => {
      request(`${engine.api.url}/healthz`, { ca, servername: 'localhost' }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .once('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });
});
