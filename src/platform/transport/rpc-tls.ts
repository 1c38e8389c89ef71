// TLS on the Nest TCP transport. `RPC_TLS=true` authenticates the server; `RPC_TLS=mutual` also makes every caller
// present a certificate from RPC_TLS_CA and names the caller's roles by the certificate's URI SANs
// (spiffe://polyrole/<role>, one per role the process runs). Which roles may call a pattern is handed in by roles/.
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { ConnectionOptions, PeerCertificate, TLSSocket, TlsOptions } from 'node:tls';
import type { PlatformSettings } from '../platform.settings.js';

export const ROLE_URI_PREFIX = 'spiffe://polyrole/';

/** Allowed caller roles of a pattern; undefined when no caller may call it. */
export type CallerPolicy = (pattern: string) => ReadonlySet<string> | undefined;

type TlsSettings = Pick<PlatformSettings, 'rpcTls' | 'rpcTlsCa' | 'rpcTlsCert' | 'rpcTlsKey'>;

function files(p: TlsSettings) {
  return {
    ca: p.rpcTlsCa ? readFileSync(p.rpcTlsCa) : undefined,
    cert: p.rpcTlsCert ? readFileSync(p.rpcTlsCert) : undefined,
    key: p.rpcTlsKey ? readFileSync(p.rpcTlsKey) : undefined,
  };
}

/** The listener's options: with `mutual`, a handshake without a certificate from the CA is refused. */
export function serverTlsOptions(p: TlsSettings): TlsOptions | undefined {
  if (p.rpcTls === 'off') return undefined;
  const mutual = p.rpcTls === 'mutual';
  return { ...files(p), requestCert: mutual, rejectUnauthorized: mutual };
}

/**
 * A caller's options. The server is checked against the CA only (peers are dialled by address, often an IP, so
 * host names say nothing); with `mutual` it must also carry the role the caller means to reach.
 */
export function clientTlsOptions(p: TlsSettings, peerRole?: string): ConnectionOptions | undefined {
  if (p.rpcTls === 'off') return undefined;
  const expected = p.rpcTls === 'mutual' ? peerRole : undefined;
  return {
    ...files(p),
    servername: undefined,
    checkServerIdentity: (_host, cert) =>
      expected === undefined || certificateRoles(cert).includes(expected)
        ? undefined
        : new Error(`the server's certificate does not name role ${expected}`),
  };
}

/** The roles a certificate names: its URI SANs under spiffe://polyrole/. */
export function certificateRoles(cert: PeerCertificate | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith(`URI:${ROLE_URI_PREFIX}`))
    .map((entry) => entry.slice(`URI:${ROLE_URI_PREFIX}`.length));
}

const rolesBySocket = new WeakMap<Socket, string[]>();

/** The caller's roles on an accepted connection, read from its certificate once per connection. */
export function callerRoles(socket: Socket): string[] {
  let roles = rolesBySocket.get(socket);
  if (!roles) {
    const tls = socket as TLSSocket;
    roles = typeof tls.getPeerCertificate === 'function' ? certificateRoles(tls.getPeerCertificate()) : [];
    rolesBySocket.set(socket, roles);
  }
  return roles;
}
