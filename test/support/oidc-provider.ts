/**
 * A real OpenID provider (`oidc-provider`) standing in for the operator's identity provider: the client-credentials
 * grant hands out JWT access tokens for the API's audience, signed with ES256 keys published at its JWKS URI, with
 * the roles of each client in a Keycloak-style `realm_access.roles` claim. rotate() restarts it on the same port
 * with a new signing key first (the old one still listed, as providers rotate).
 * @example const idp = await startOidcProvider({ audience: 'api', clients: { ops: ['operator'] } }); await idp.token('ops');
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';

export interface OidcServer {
  issuer: string;
  jwksUrl: string;
  /** An access token for `clientId` (its `sub`), from the token endpoint. */
  token(clientId: string): Promise<string>;
  /** Signs from now on with a new key (new `kid`); tokens signed with the old key stay valid. */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

export interface OidcOptions {
  audience: string;
  /** Client id → roles granted in its tokens. */
  clients: Record<string, string[]>;
}

const resource = 'urn:ai-assistant-core:api';

export async function startOidcProvider(options: OidcOptions): Promise<OidcServer> {
  const keys: JWK[] = [await signingKey()];
  let server = await listen(0, keys, options);
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  // The issuer is the address itself, known once listening: start again on that port with it.
  await close(server);
  server = await listen(port, keys, options);
  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    async token(clientId) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${clientId}:secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api' }),
      });
      const body = (await response.json()) as { access_token?: string; error_description?: string };
      if (!body.access_token) throw new Error(`token endpoint: ${response.status} ${body.error_description ?? ''}`);
      return body.access_token;
    },
    async rotate() {
      keys.unshift(await signingKey());
      await close(server);
      server = await listen(port, keys, options);
    },
    close: () => close(server),
  };
}

async function signingKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), alg: 'ES256', use: 'sig', kid: crypto.randomUUID() };
}

async function listen(port: number, keys: JWK[], options: OidcOptions): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: Object.keys(options.clients).map((clientId) => ({
      client_id: clientId,
      client_secret: 'secret',
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      id_token_signed_response_alg: 'ES256',
    })),
    jwks: { keys: keys.map((key) => ({ ...key })) },
    cookies: { keys: ['oidc-test-cookie-key'] },
    ttl: { ClientCredentials: 600 },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        getResourceServerInfo: () => ({
          scope: 'api',
          audience: options.audience,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => ({ realm_access: { roles: options.clients[(token as { clientId: string }).clientId] ?? [] } }),
  });
  const handle = provider.callback();
  server.on('request', (req, res) => {
    res.shouldKeepAlive = false; // rotate() restarts the server: no client may hold on to a connection of the old one
    void handle(req, res);
  });
  return server;
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
